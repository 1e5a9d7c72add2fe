"""The API's list pages."""

from rest_framework import pagination


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """DRF's limit/offset pages with a ceiling: a larger `limit` reads `max_limit` rows. Without
    it a limit past the database's integer range (limit=10**23) was a 500, and any large one
    reads a whole table in one answer."""

    max_limit = 1000
