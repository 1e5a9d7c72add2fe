"""Forms of the supervisor's pages: list filters read from the query string, and the inputs
of the actions. They check shape only; the rules are the services'."""

from django import forms
from django.db.models import Q

from inventory.models import Site
from mesproject.forms import DayField
from orders.models import Resource

from .choices import AttendanceStatus


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


class AttendanceFilter(forms.Form):
    """The attendance list's filters; an invalid one is shown, not applied."""

    date_from = forms.DateField(label="From", required=False, widget=_date_input())
    date_to = forms.DateField(label="To", required=False, widget=_date_input())
    status = forms.ChoiceField(
        choices=[("", "Any status"), *AttendanceStatus.choices], required=False
    )
    site = forms.ModelChoiceField(
        queryset=Site.objects.order_by("code"), required=False, empty_label="All sites"
    )
    worker = forms.CharField(label="Worker (badge or name)", max_length=100, required=False)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def apply(self, days):
        if not self.is_valid():
            return days
        data = self.cleaned_data
        if data.get("date_from"):
            days = days.filter(date__gte=data["date_from"])
        if data.get("date_to"):
            days = days.filter(date__lte=data["date_to"])
        if data.get("status"):
            days = days.filter(status=data["status"])
        if data.get("site"):
            days = days.filter(worker__site=data["site"])
        worker = (data.get("worker") or "").strip()
        if worker:
            days = days.filter(
                Q(worker__badge_id__iexact=worker) | Q(worker__name__icontains=worker)
            )
        return days


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
