"""Pages counted up to a bound: a long list is counted only as far as its pages need.

Counting a whole list costs a pass over every row it has, on every page: at 100,000
patients the API's page of 50 spent more time counting than reading and serialising its
rows, and at 1,000,000 the list page's count alone was over its 40 ms budget. A list is
counted exactly up to `COUNT_LIMIT` rows past the start of the page asked for; beyond, only
that far (`count_exact` is false: "more than `count_limit`"). Every page is still reached by
"next", and asking for page n counts at least n pages' rows.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_LIMIT = 10_000


def count_limit_for(number: object, per_page: int) -> int | None:
    """How far to count for page `number` (as asked, maybe not a number): None (exactly)
    for anything but a page number, e.g. "last"."""
    try:
        return max(COUNT_LIMIT, int(str(number)) * per_page)
    except ValueError:
        return None


class BoundedCountPaginator(Paginator):
    """A `Paginator` whose count stops at `count_limit` + 1 rows (None: counts them all).

    `counted`, if given, is what is counted instead of `object_list`: the same rows without
    the joins only the shown columns need."""

    def __init__(self, object_list, per_page, *, count_limit: int | None, counted=None):
        super().__init__(object_list, per_page)
        self.count_limit = count_limit
        self.counted = counted if counted is not None else object_list

    @cached_property
    def count(self) -> int:
        # In no order: the database counts by its narrowest index instead of walking the
        # rows in the page's order.
        rows = self.counted.order_by()
        if self.count_limit is None:
            return rows.count()
        return rows[: self.count_limit + 1].count()

    @property
    def count_exact(self) -> bool:
        return self.count_limit is None or self.count <= self.count_limit

    @property
    def pages_counted(self) -> int:
        """The pages known to be full: all of them when the count is exact; else as many as
        `count_limit` rows fill ("Page 1 of 400 or more")."""
        if self.count_limit is None or self.count_exact:
            return self.num_pages
        return -(-self.count_limit // int(self.per_page))
