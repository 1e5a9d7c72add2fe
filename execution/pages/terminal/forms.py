"""Forms of the shop-floor terminal. They only read the input; the rules are the services'."""

import uuid
from decimal import Decimal

from django import forms

from inventory.fields import QUANTITY_DIGITS, QUANTITY_PLACES, show
from orders.choices import ReasonKind
from orders.models import ReasonCode

from ...choices import JobKind
from ...models import AbsenceCode, IndirectActivity, Job

# Touch screens with no keyboard: the on-screen number pad opens for these.
NUMBER = {"inputmode": "decimal", "autocomplete": "off", "class": "number-input"}


def _quantity(label: str, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=0,
        max_digits=QUANTITY_DIGITS,
        decimal_places=QUANTITY_PLACES,
        widget=forms.TextInput(attrs=NUMBER),
        **kwargs,
    )


class SignInForm(forms.Form):
    badge_id = forms.CharField(
        label="Badge",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    pin = forms.CharField(
        label="PIN",
        max_length=16,
        strip=True,
        widget=forms.PasswordInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "class": "number-input"}
        ),
    )


class RegistrationForm(forms.Form):
    """Every terminal form carries the registration's UUID, made when the form is shown: a
    second tap posts the same UUID, which the service answers without storing it again."""

    registration_uuid = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("registration_uuid", uuid.uuid4())
        super().__init__(*args, **kwargs)


class BundleForm(RegistrationForm):
    jobs = forms.ModelMultipleChoiceField(
        queryset=Job.objects.none(), error_messages={"required": "Select the jobs to start."}
    )

    def __init__(self, *args, jobs=None, **kwargs):
        super().__init__(*args, **kwargs)
        if jobs is not None:
            self.fields["jobs"].queryset = jobs

    def clean_jobs(self):
        jobs = self.cleaned_data["jobs"]
        if len(jobs) < 2:
            raise forms.ValidationError("Select two jobs or more to start them together.")
        return jobs


class StartForm(RegistrationForm):
    """Start a job with a chosen quantity: the rest of the job by default, at most what may
    still start on it (both from the services' job limits). Empty: the rest, as over the
    API. A setup job starts no quantity: the field is not offered."""

    quantity = _quantity("Quantity to start", required=False)
    page = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, job: Job, rest: Decimal, startable: Decimal, unit: str, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("quantity", show(rest))
        super().__init__(*args, **kwargs)
        self.startable = startable
        if job.kind != JobKind.PROCESS:
            del self.fields["quantity"]
            return
        self.fields["quantity"].help_text = (
            f"The rest of the job is {show(rest)} {unit}; "
            f"at most {show(startable)} {unit} may start now."
        )
        self.unit = unit

    def clean_quantity(self):
        quantity = self.cleaned_data.get("quantity")
        if quantity is not None and quantity > self.startable:
            raise forms.ValidationError(
                f"At most {show(self.startable)} {self.unit} may start on this job now."
            )
        return quantity


class AbsenceForm(RegistrationForm):
    absence_code = forms.ModelChoiceField(
        label="Reason",
        queryset=AbsenceCode.objects.order_by("code"),
        widget=forms.RadioSelect,
        empty_label=None,
    )
    absence_minutes = forms.DecimalField(
        label="Minutes",
        min_value=Decimal("0.01"),
        max_value=24 * 60,
        max_digits=12,
        decimal_places=2,
        widget=forms.TextInput(attrs=NUMBER),
    )


class IndirectForm(RegistrationForm):
    indirect_activity = forms.ModelChoiceField(
        label="Activity",
        queryset=IndirectActivity.objects.order_by("code"),
        widget=forms.RadioSelect,
        empty_label=None,
    )


def _scrap_reasons():
    return ReasonCode.objects.filter(kind=ReasonKind.SCRAP, is_active=True).order_by("code")


class ProgressForm(RegistrationForm):
    quantity_good = _quantity("Good quantity", initial=0)
    quantity_scrap = _quantity("Scrap quantity", initial=0)
    reason_code = forms.ModelChoiceField(
        label="Scrap reason",
        queryset=_scrap_reasons(),
        required=False,
        widget=forms.RadioSelect,
        # A tile to take a reason back: radios cannot be unticked by tapping again.
        blank=True,
        empty_label="No scrap",
    )
    stops_job = forms.BooleanField(label="Stop the job after this report", required=False)
    completes_job = forms.BooleanField(label="The job is finished", required=False)


class FinishForm(RegistrationForm):
    quantity_good = _quantity("Good quantity finished", initial=0)
    quantity_scrap = _quantity("Scrap quantity", initial=0)
    reason_code = forms.ModelChoiceField(
        label="Scrap reason",
        queryset=_scrap_reasons(),
        required=False,
        widget=forms.RadioSelect,
        # A tile to take a reason back: radios cannot be unticked by tapping again.
        blank=True,
        empty_label="No scrap",
    )
    lot_number = forms.CharField(
        label="Lot or serial number",
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, tracked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not tracked:
            # Untracked items have no lot: the field is not offered.
            del self.fields["lot_number"]
