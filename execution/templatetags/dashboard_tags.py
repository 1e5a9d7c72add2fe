"""Template filters of the supervisors' dashboard."""

from django import template

from .planner_tags import qty

register = template.Library()

# A quantity or count for people: the planner's qty filter, under the dashboard's name.
register.filter("num", qty)
