"""Tests of the browser pages, and the checks they share: constant query counts."""

from django.db import connection
from django.test.utils import CaptureQueriesContext


def page_queries(client, url: str) -> int:
    """Queries one GET of the page runs (it must answer 200)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def assert_constant_queries(client, url: str, add_rows, *, small: int = 10, large: int = 500):
    """The page runs the same number of queries with `small` and with `large` rows.

    add_rows(n) creates n more rows the page lists. Returns the count, for the record.
    """
    add_rows(small)
    at_small = page_queries(client, url)
    add_rows(large - small)
    at_large = page_queries(client, url)
    assert at_small == at_large, f"{url}: {at_small} queries at {small} rows, {at_large} at {large}"
    return at_large
