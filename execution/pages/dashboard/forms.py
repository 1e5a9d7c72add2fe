"""The dashboard's one input: the day its output and scrap charts show."""

from django import forms

from mesproject.forms import DayField


class DashboardFilter(forms.Form):
    """The period of the output and scrap charts; empty: the last 24 hours."""

    date = DayField(label="Day", required=False, widget=forms.DateInput(attrs={"type": "date"}))
