"""What the supervisor's lists share: pages of rows, the rows a person ticked, the way back
to the list they came from."""

from django.core.paginator import Paginator
from django.http import QueryDict
from django.utils.http import url_has_allowed_host_and_scheme

from mesproject.forms import selected_ids

PAGE_SIZE = 50


def next_url(request, default: str) -> str:
    """Where the user came from (the filtered, paged list), when it is one of ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def paginate(params: QueryDict, rows, param: str = "page"):
    """A page of rows, with the query strings of its previous and next pages (the other
    parameters kept: a page may list several paginated tables)."""
    page = Paginator(rows, PAGE_SIZE).get_page(params.get(param))
    for name, has, number in (
        ("previous_query", page.has_previous, page.previous_page_number),
        ("next_query", page.has_next, page.next_page_number),
    ):
        query = ""
        if has():
            copy = params.copy()
            copy[param] = number()
            query = copy.urlencode()
        setattr(page, name, query)
    return page


def selected_rows(request, name: str) -> list[int]:
    """The row whose button was pressed ("only"), else the ticked rows."""
    only = request.POST.get("only", "")
    values = [only] if only else request.POST.getlist(name)
    return selected_ids(values)
