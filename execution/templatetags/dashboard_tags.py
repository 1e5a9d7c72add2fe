"""Template filters of the supervisors' dashboard."""

from django import template

from ..charts import show

register = template.Library()


@register.filter
def num(value) -> str:
    """A quantity or count for people: 10, 2.5, never 10.000000, 2.500 nor 1E+1."""
    if value is None or value == "":
        return ""
    return show(value)
