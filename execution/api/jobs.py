"""GET /api/v1/jobs/ and /api/v1/jobs/{id}/: a resource's jobs for any terminal, read-only.

A third-party terminal lists its resource's jobs and reads what it may still start and report
on each, the same figures the door judges a registration by (execution.services.limits), so
no integration scrapes a page for job ids or quantities.
"""

from django.db.models import F, Value
from django.db.models.functions import Greatest
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.permissions import BasePermission

from inventory.fields import QUANTITY_DIGITS, QUANTITY_PLACES, ZERO, QuantityField
from mesproject.serializer_fields import TextField

from ..choices import JobKind, JobStatus
from ..models import Job
from ..services.limits import jobs_limits


class JobPermission(BasePermission):
    """Those who may post registrations (operators, terminals, scale units) or view jobs
    (planners, supervisors)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and (
                user.has_perm("execution.add_rawregistration")
                or user.has_perm("execution.view_job")
            )
        )


class JobFilter(filters.FilterSet):
    resource = filters.CharFilter(field_name="resource__code", help_text="Resource code.")
    wo_id = filters.CharFilter(field_name="order__number", help_text="The order's number.")
    status = filters.MultipleChoiceFilter(
        choices=JobStatus.choices, help_text="One or more (status=started&status=stopped)."
    )
    kind = filters.ChoiceFilter(choices=JobKind.choices)
    on_hold = filters.BooleanFilter()

    class Meta:
        model = Job
        fields = ("resource", "wo_id", "status", "kind", "on_hold")


def _quantity(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES, read_only=True, **kwargs
    )


class JobSerializer(serializers.ModelSerializer):
    """A job as a terminal needs it; quantities in the order's unit, as decimal strings."""

    wo_id = TextField(source="order.number")
    part_number = TextField(source="order.item.part_number")
    resource = TextField(source="resource.code")
    qty_planned = _quantity(source="planned_quantity")
    qty_started = _quantity(source="quantity_started", help_text="Processed so far.")
    qty_good = _quantity(source="quantity_good")
    qty_scrap = _quantity(source="quantity_scrapped")
    qty_in_progress = _quantity(source="in_progress", help_text="Started less good and scrap.")
    qty_startable = _quantity(
        source="limits.startable",
        help_text="What a start may still take now (the first operation: the order quantity "
        "with its tolerance; a later one: what the operation before output), registrations "
        "not processed yet included.",
    )
    qty_reportable = _quantity(
        source="limits.reportable",
        help_text="Good + scrap a progress registration may still report: what is in "
        "progress, registrations not processed yet included.",
    )

    class Meta:
        model = Job
        fields = (
            "id",
            "wo_id",
            "part_number",
            "operation_number",
            "operation_name",
            "kind",
            "resource",
            "status",
            "on_hold",
            "qty_planned",
            "qty_started",
            "qty_good",
            "qty_scrap",
            "qty_in_progress",
            "qty_startable",
            "qty_reportable",
        )
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        operation_id="jobs_list",
        description="Jobs in the resources' operational plan order, filtered (`resource`, "
        "`status`, `wo_id`, `kind`, `on_hold`) and paged.",
    ),
    retrieve=extend_schema(operation_id="jobs_read"),
)
class JobViewSet(viewsets.ReadOnlyModelViewSet):
    """Read-only: jobs change through registrations and the supervisor's pages."""

    permission_classes = [JobPermission]
    serializer_class = JobSerializer
    filterset_class = JobFilter
    queryset = (
        Job.objects.select_related("order__item", "resource")
        .annotate(
            in_progress=Greatest(
                F("quantity_started") - F("quantity_good") - F("quantity_scrapped"),
                Value(ZERO),
                output_field=QuantityField(),
            )
        )
        .order_by("resource__code", "sequence", "id")
    )

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            _attach_limits(page)
        return page

    def get_object(self):
        job = super().get_object()
        _attach_limits([job])
        return job


def _attach_limits(jobs: list[Job]) -> None:
    """Each job's allowed quantities, read for the whole page at once."""
    found = jobs_limits(jobs=jobs)
    for job in jobs:
        job.limits = found[job.pk]
