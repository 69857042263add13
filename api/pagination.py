"""Pages of the API's lists, counted up to a bound (core/pagination.py): a list's `count` is
exact up to 10,000 rows past the start of the page asked for; beyond, `count` says how far
it was counted and `count_exact` is false ("more than `count`"). Reading the pages one
after the other (`next`) works whatever the count; `?page=last` counts every row.
"""

from django.core.paginator import InvalidPage
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from core import pagination
from core.pagination import BoundedCountPaginator


class BoundedCountPagination(PageNumberPagination):
    """Page-number pages (`?page=`) whose `count` is exact up to `core.pagination.COUNT_LIMIT`
    rows past the page's start; `?page=last` counts them all."""

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        number = request.query_params.get(self.page_query_param) or 1
        paginator = BoundedCountPaginator(queryset, page_size,
                                          count_limit=pagination.count_limit_for(number, page_size))
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
            f"counted up to {pagination.COUNT_LIMIT:,} past the start of the page).")
        response["properties"]["count_exact"] = {
            "type": "boolean", "description": "False when the list has more rows than `count`."}
        response["required"] = [*response["required"], "count_exact"]
        return response


class ApiPagination(BoundedCountPagination):
    """The patients' pages: up to 200 rows a page (`?page_size=`)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
