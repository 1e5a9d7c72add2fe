"""The registration contract terminals and scale units post to, and what they get back."""

from django.utils import timezone
from rest_framework import serializers

from inventory.fields import QUANTITY_DIGITS, QUANTITY_PLACES, ZERO
from inventory.identifiers import identifier_check
from inventory.models import Location
from mesproject.errors import ApplicationError
from mesproject.serializer_fields import TextField
from orders.models import ProductionOrder, ProductionOrderMaterial, ReasonCode, Resource

from ..choices import RegistrationKind
from ..models import AbsenceCode, IndirectActivity, Job, RawRegistration, Terminal, Worker
from ..services.registrations import RegistrationInput

QUANTITY = {"max_digits": QUANTITY_DIGITS, "decimal_places": QUANTITY_PLACES}


class EventTimeField(serializers.DateTimeField):
    """An ISO 8601 time handed on as posted: one without a zone stays naive, so the service
    refuses it (`occurred_at_invalid`) instead of guessing the server's zone."""

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            return value
        return super().enforce_timezone(value)


class RegistrationInSerializer(serializers.Serializer):
    registration_uuid = serializers.UUIDField(
        help_text="Made by the terminal; a repeat is a no-op."
    )
    # A correction is a supervisor's, made on the pages (services/corrections.py), never posted.
    kind = serializers.ChoiceField(
        choices=[c for c in RegistrationKind.choices if c[0] != RegistrationKind.CORRECTION]
    )
    occurred_at = EventTimeField(help_text="When it happened, with a time zone.")
    badge_id = TextField(required=False, allow_blank=True, help_text="The worker.")
    terminal = TextField(required=False, allow_blank=True, help_text="Terminal code.")
    resource = TextField(required=False, allow_blank=True, help_text="Resource code.")
    job = serializers.IntegerField(required=False, help_text="Job id (job kinds).")
    jobs = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="Job ids of a bundle."
    )
    order = TextField(
        required=False, allow_blank=True, help_text="Order number (report as finished, consume)."
    )
    quantity = serializers.DecimalField(
        required=False,
        allow_null=True,
        help_text="Start: the quantity started (default: what is left of the job). "
        "Consume material: the quantity, negative to return.",
        **QUANTITY,
    )
    quantity_good = serializers.DecimalField(required=False, default=ZERO, **QUANTITY)
    quantity_scrap = serializers.DecimalField(required=False, default=ZERO, **QUANTITY)
    reason_code = TextField(required=False, allow_blank=True)
    stops_job = serializers.BooleanField(required=False, default=False)
    completes_job = serializers.BooleanField(required=False, default=False)
    absence_code = TextField(required=False, allow_blank=True)
    absence_minutes = serializers.DecimalField(
        required=False, default=ZERO, max_digits=12, decimal_places=2
    )
    indirect_activity = TextField(required=False, allow_blank=True)
    lot_number = TextField(required=False, allow_blank=True, max_length=64)
    location = TextField(
        required=False, allow_blank=True, help_text="Put-away location: WAREHOUSE/LOCATION."
    )
    material_line = serializers.IntegerField(
        required=False, help_text="Consume material: the order's material line number."
    )
    consume = serializers.BooleanField(
        required=False, default=True, help_text="False: report as finished without consumption."
    )
    note = TextField(required=False, allow_blank=True, max_length=200)


def _lookup(queryset, value, what: str, code: str):
    if value in (None, ""):
        return None
    found = queryset.filter(**{what: value}).first()
    if found is None:
        raise ApplicationError(
            f"Unknown {code.removesuffix('_unknown').replace('_', ' ')} {value!r}.",
            code=code,
            fields={code.removesuffix("_unknown"): str(value)},
        )
    return found


def _location(value: str, order: ProductionOrder | None) -> Location | None:
    """A location posted as WAREHOUSE/LOCATION, at the order's site."""
    if not value:
        return None
    warehouse, _sep, code = value.partition("/")
    queryset = Location.objects.select_related("warehouse").filter(
        warehouse__code=warehouse, code=code
    )
    if order is not None:
        queryset = queryset.filter(warehouse__site_id=order.site_id)
    found = queryset.first()
    if found is None:
        raise ApplicationError(
            f"Unknown location {value!r} (give WAREHOUSE/LOCATION at the order's site).",
            code="location_unknown",
            fields={"location": value},
        )
    return found


def _lot_number(value: str) -> str:
    """A lot or serial number follows the identifier set (422 identifier_invalid)."""
    return identifier_check(value, field="lot_number") if value else ""


def registration_input(data: dict) -> RegistrationInput:
    """Turn validated request data into the service's input; unknown references are 400s."""
    lot_number = _lot_number(data.get("lot_number") or "")
    jobs_qs = Job.objects.select_related("order__item", "order__unit", "resource")
    job = _lookup(jobs_qs, data.get("job"), "pk", "job_unknown")
    jobs = [_lookup(jobs_qs, pk, "pk", "job_unknown") for pk in data.get("jobs") or []]
    order = _lookup(
        ProductionOrder.objects.select_related("item", "unit"),
        data.get("order"),
        "number",
        "order_unknown",
    )
    if order is None and job is not None:
        order = job.order
    material = None
    if data.get("material_line") is not None:
        if order is None:
            raise ApplicationError("Name the order of the material line.", code="order_required")
        material = _lookup(
            ProductionOrderMaterial.objects.select_related("component__unit").filter(order=order),
            data["material_line"],
            "line_number",
            "material_unknown",
        )
    return RegistrationInput(
        uuid=data["registration_uuid"],
        kind=data["kind"],
        occurred_at=data["occurred_at"],
        worker=_lookup(
            Worker.objects.select_related("pay_agreement"),
            data.get("badge_id"),
            "badge_id",
            "worker_unknown",
        ),
        terminal=_lookup(
            Terminal.objects.select_related("resource"),
            data.get("terminal"),
            "code",
            "terminal_unknown",
        ),
        resource=_lookup(Resource.objects.all(), data.get("resource"), "code", "resource_unknown"),
        order=order,
        job=job,
        jobs=jobs,
        quantity=data.get("quantity"),
        quantity_good=data.get("quantity_good") or ZERO,
        quantity_scrap=data.get("quantity_scrap") or ZERO,
        reason_code=_lookup(
            ReasonCode.objects.all(), data.get("reason_code"), "code", "reason_unknown"
        ),
        stops_job=data.get("stops_job", False),
        completes_job=data.get("completes_job", False),
        absence_code=_lookup(
            AbsenceCode.objects.all(), data.get("absence_code"), "code", "absence_code_unknown"
        ),
        absence_minutes=data.get("absence_minutes") or ZERO,
        indirect_activity=_lookup(
            IndirectActivity.objects.all(),
            data.get("indirect_activity"),
            "code",
            "indirect_activity_unknown",
        ),
        lot_number=lot_number,
        location=_location(data.get("location") or "", order),
        material=material,
        consume=data.get("consume", True),
        note=data.get("note") or "",
    )


class RegistrationOutSerializer(serializers.ModelSerializer):
    registration_uuid = serializers.UUIDField(source="uuid")
    badge_id = TextField(source="worker.badge_id", default=None, allow_null=True)
    order = TextField(source="order.number", default=None, allow_null=True)

    class Meta:
        model = RawRegistration
        fields = (
            "registration_uuid",
            "kind",
            "status",
            "lane",
            "occurred_at",
            "received_at",
            "badge_id",
            "order",
            "job",
            "bundle_uuid",
            "quantity",
            "quantity_good",
            "quantity_scrap",
            "stops_job",
            "completes_job",
            "lot_number",
            "source",
            "error_code",
            "error",
            "attempts",
            "processed_at",
        )
        read_only_fields = fields


class AcceptedSerializer(serializers.Serializer):
    registration_uuid = serializers.UUIDField()
    replayed = serializers.BooleanField()
    registrations = RegistrationOutSerializer(many=True)


class BatchAnsweredSerializer(serializers.Serializer):
    results = serializers.ListField(
        child=serializers.DictField(),
        help_text="One per registration posted, in order: its own `status` (202, 200 for a "
        "replay, or the refusal's) with the answer (as for one registration) or the refusal "
        "({code, message, fields}).",
    )
