"""Pages of the API's lists, counted up to a bound.

A list's `count` is exact while it is at most `COUNT_LIMIT` rows past the start of the page
asked for; beyond, the rows are counted only that far, `count` says how many were counted
and `count_exact` is false ("more than `count`"). Counting a whole list costs a pass over
every row it has: at 100,000 patients the page of 50 spent more time counting than
reading and serialising its rows, and a list of 1.2 million studies more still. Reading the
pages one after the other (`next`) works whatever the count.
"""

from django.core.paginator import InvalidPage, Paginator
from django.utils.functional import cached_property
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

COUNT_LIMIT = 10_000


class BoundedCountPaginator(Paginator):
    """A `Paginator` whose count stops at `count_limit` + 1 rows (None: exact)."""

    def __init__(self, object_list, per_page, *, count_limit: int | None):
        super().__init__(object_list, per_page)
        self.count_limit = count_limit

    @cached_property
    def count(self) -> int:
        if self.count_limit is None:
            return super().count
        # The order is the page's, not the count's: without it the database counts by the
        # narrowest index instead of walking the rows in order.
        return self.object_list.order_by()[: self.count_limit + 1].count()

    @property
    def count_exact(self) -> bool:
        return self.count_limit is None or self.count <= self.count_limit


class BoundedCountPagination(PageNumberPagination):
    """Page-number pages (`?page=`) whose `count` is exact up to `COUNT_LIMIT` rows past the
    page's start (module docstring); `?page=last` counts them all."""

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        number = request.query_params.get(self.page_query_param) or 1
        try:
            limit = max(COUNT_LIMIT, int(number) * page_size)
        except ValueError:  # "last", or not a number (answered 404 below)
            limit = None
        paginator = BoundedCountPaginator(queryset, page_size, count_limit=limit)
        if number in self.last_page_strings:
            number = paginator.num_pages
        try:
            self.page = paginator.page(number)
        except InvalidPage as exc:
            raise NotFound(self.invalid_page_message.format(page_number=number, message=str(exc))) from exc
        return list(self.page)

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response({
            "count": paginator.count if paginator.count_exact else paginator.count_limit,
            "count_exact": paginator.count_exact,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"]["description"] = (
            f"Rows in the list; when `count_exact` is false, there are more than this (rows are "
            f"counted up to {COUNT_LIMIT:,} past the start of the page).")
        response["properties"]["count_exact"] = {
            "type": "boolean", "description": "False when the list has more rows than `count`."}
        response["required"] = [*response["required"], "count_exact"]
        return response


class ApiPagination(BoundedCountPagination):
    """The patients' pages: up to 200 rows a page (`?page_size=`)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
