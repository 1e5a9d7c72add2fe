"""Forms of the supervisor's pages: which site and resource to show, and the inputs of the
actions (the attendance list's filters are filters.AttendanceFilter). They check shape only;
the rules are the services'."""

from django import forms

from inventory.models import Site
from mesproject.forms import DayField
from orders.models import Resource


def _date_input():
    return forms.DateInput(attrs={"type": "date"})


class SiteFilter(forms.Form):
    """The floor's filter: one site or all."""

    site = forms.ModelChoiceField(
        queryset=Site.objects.order_by("code"), required=False, empty_label="All sites"
    )

    def site_or_none(self) -> Site | None:
        return self.cleaned_data.get("site") if self.is_valid() else None


class PlanFilter(SiteFilter):
    """Which resource's plan to show; the site narrows the resources offered."""

    resource = forms.ModelChoiceField(
        queryset=Resource.objects.filter(is_active=True).order_by("code"),
        required=False,
        empty_label="Choose a resource",
    )
    include_completed = forms.BooleanField(label="Show completed jobs", required=False)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        site_id = (data or {}).get("site")
        if site_id and str(site_id).isdigit():
            field = self.fields["resource"]
            field.queryset = field.queryset.filter(site_id=site_id)


class JobMoveForm(forms.Form):
    """Another resource of the job's site."""

    resource = forms.ModelChoiceField(
        queryset=Resource.objects.none(),
        label="Move to resource",
        error_messages={"invalid_choice": "Choose an active resource of the job's site."},
    )

    def __init__(self, data=None, *, job, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["resource"].queryset = (
            Resource.objects.filter(site_id=job.resource.site_id, is_active=True)
            .exclude(pk=job.resource_id)
            .order_by("code")
        )


class AttendanceCalculateForm(forms.Form):
    """Calculate one date for every worker (of a site) with registrations that day."""

    date = DayField(label="Date to calculate", widget=_date_input())
    site = forms.ModelChoiceField(
        queryset=Site.objects.order_by("code"),
        required=False,
        empty_label="All sites",
        label="Site",
    )

    def __init__(self, *args, **kwargs):
        # Its own ids: the filter form on the same page has a site field too.
        kwargs.setdefault("auto_id", "calculate_%s")
        super().__init__(*args, **kwargs)
