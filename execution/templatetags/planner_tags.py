"""Template filters of the planner pages."""

from django import template

from inventory.fields import show

register = template.Library()


@register.filter
def qty(value) -> str:
    """A quantity for people: 10, 2.5, never 10.000000 nor 1E+1; empty stays empty."""
    if value is None or value == "":
        return ""
    return show(value)
