"""Read-only inventory endpoints; the one write is POST .../journals/{id}/post/ (a service)."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from mesproject.actors import Actor

from .. import selectors, services
from ..models import AdjustmentJournal, InventoryTransaction, OnHand, Reservation
from .permissions import ModelPermissions
from .serializers import (
    AdjustmentJournalSerializer,
    InventoryTransactionSerializer,
    OnHandSerializer,
    ReservationSerializer,
)


class InventoryTransactionFilter(filters.FilterSet):
    part_number = filters.CharFilter(field_name="item__part_number")
    site = filters.CharFilter(field_name="location__warehouse__site__code")

    class Meta:
        model = InventoryTransaction
        fields = ("item", "lot", "location", "kind", "order_ref", "source_type", "source_id")


class InventoryTransactionViewSet(viewsets.ReadOnlyModelViewSet):
    """The ledger: list and read only, never changed."""

    permission_classes = [ModelPermissions]
    serializer_class = InventoryTransactionSerializer
    filterset_class = InventoryTransactionFilter
    queryset = selectors.ledger_list().order_by("-id")


class OnHandFilter(filters.FilterSet):
    part_number = filters.CharFilter(field_name="item__part_number")
    site = filters.CharFilter(field_name="location__warehouse__site__code")

    class Meta:
        model = OnHand
        fields = ("item", "lot", "location")


class OnHandViewSet(viewsets.ReadOnlyModelViewSet):
    """On-hand per item / lot / location (rows at zero left out)."""

    permission_classes = [ModelPermissions]
    serializer_class = OnHandSerializer
    filterset_class = OnHandFilter
    queryset = selectors.on_hand_list()


class ReservationViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ModelPermissions]
    serializer_class = ReservationSerializer
    filterset_fields = ("order_ref", "item", "site")
    queryset = Reservation.objects.select_related("item", "site").order_by("pk")


class AdjustmentJournalViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ModelPermissions]
    serializer_class = AdjustmentJournalSerializer
    filterset_fields = ("status", "audit_flag")
    queryset = AdjustmentJournal.objects.prefetch_related("lines__item", "lines__lot").order_by(
        "-pk"
    )

    @extend_schema(request=None, responses=AdjustmentJournalSerializer)
    @action(detail=True, methods=["post"], url_path="post", url_name="post")
    def post_journal(self, request: Request, pk=None) -> Response:
        """Post the journal into the ledger (409 journal_posted when it already is)."""
        journal = services.adjustment_journal_post(
            journal=self.get_object(), actor=Actor(user=request.user)
        )
        return Response(self.get_serializer(journal).data)
