"""Genealogy: which component lots, and how much of each, went into a finished lot.

A report as finished that receives a lot (or serial) links it to its component lots:

- what that registration consumed itself (production finish, or operation finish flushed at
  report as finished; its postings name the finished lot as `parent_lot`) is linked as
  consumed;
- for every other material line, the finished lot needs its good quantity x the line's
  quantity per (with its scrap allowance, rounded as the flushing engine does). That need is
  taken first in, first out from the lots the order consumed earlier (start, operation
  finish, available at location, manual), and only from what no earlier finished lot of the
  order took already.

The order's consumption of a component is read as a queue of picking list lines. A return
takes back from the latest consumption of its lot; a correction's return takes back the
corrected registration's own consumption. Earlier links take from the front of each lot.
So the links of a component lot never add up to more than the order consumed of it, net;
material consumed for scrapped units, or beyond the need, stays unlinked.

A corrected report as finished gets its links reversed (negative links of the correction):
its components are free again for the next finished lot.

A return that takes back more of a lot than the order still holds unlinked takes the rest
back from the finished lots: negative links of the return, from the latest finished lot
first (history is never edited), so the links stay within what the order consumed, net.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from inventory.fields import ZERO
from inventory.models import Lot
from orders.models import ProductionOrder

from .. import flushing
from ..choices import RegistrationKind
from ..models import GenealogyLink, PickingListLine, RawRegistration


@dataclass
class _Entry:
    """One consumption of a component lot, and what of it no return took back."""

    registration_id: int | None
    lot_id: int
    left: Decimal


def genealogy_link(
    *,
    order: ProductionOrder,
    registration: RawRegistration,
    finished_lot: Lot,
    output: Decimal,
    lines: list[flushing.MaterialLine],
) -> list[GenealogyLink]:
    """Link the finished lot the registration received (`output` good, in the product's
    unit) to the component lots that went into it (rule in the module docstring)."""
    own: dict[int, Decimal] = defaultdict(Decimal)
    own_lines: set[int] = set()
    queues: dict[int, list[_Entry]] = defaultdict(list)
    rows = list(
        # Untracked components have no lot to link.
        PickingListLine.objects.filter(order=order, lot__isnull=False)
        .order_by("pk")
        .values_list("registration_id", "material_id", "component_id", "lot_id", "quantity")
    )
    corrected = _corrected_registrations({r[0] for r in rows if r[4] < 0})
    for registration_id, material_id, component_id, lot_id, quantity in rows:
        if registration_id == registration.pk:
            own_lines.add(material_id)
            own[lot_id] += quantity
        elif quantity > 0:
            queues[component_id].append(_Entry(registration_id, lot_id, quantity))
        else:
            _take_back(queues[component_id], lot_id, -quantity, corrected.get(registration_id))
    _drop_linked(queues, order)

    need: dict[int, Decimal] = defaultdict(Decimal)
    for line in lines:
        if line.line_id not in own_lines:
            need[line.component] += flushing.required_quantity(line, output)
    given: dict[int, Decimal] = defaultdict(Decimal, {k: v for k, v in own.items() if v > 0})
    for component, entries in queues.items():
        wanted = need.get(component, ZERO)
        for entry in entries:
            if wanted <= 0:
                break
            take = min(wanted, entry.left)
            if take > 0:
                given[entry.lot_id] += take
                wanted -= take
    return GenealogyLink.objects.bulk_create(
        [
            GenealogyLink(
                order=order,
                finished_lot=finished_lot,
                component_lot_id=lot_id,
                quantity=quantity,
                registration=registration,
            )
            for lot_id, quantity in sorted(given.items())
        ]
    )


def genealogy_reverse(*, original: RawRegistration, correction: RawRegistration) -> None:
    """A corrected report as finished: its links, negated under the correction."""
    GenealogyLink.objects.bulk_create(
        [
            GenealogyLink(
                order_id=link.order_id,
                finished_lot_id=link.finished_lot_id,
                component_lot_id=link.component_lot_id,
                quantity=-link.quantity,
                registration=correction,
            )
            for link in GenealogyLink.objects.filter(registration=original).order_by("pk")
        ]
    )


def genealogy_take_back(*, order: ProductionOrder, registration: RawRegistration) -> None:
    """After a return: per lot it returned, unlink what the order's finished lots hold beyond
    the order's net consumption of that lot."""
    lots = set(
        PickingListLine.objects.filter(
            registration=registration, lot__isnull=False, quantity__lt=0
        ).values_list("lot_id", flat=True)
    )
    if not lots:
        return
    consumed = dict(
        PickingListLine.objects.filter(order=order, lot_id__in=lots)
        .values_list("lot_id")
        .annotate(total=Sum("quantity"))
    )
    held: dict[tuple[int, int], Decimal] = defaultdict(Decimal)  # (lot, finished lot) -> net
    latest: dict[tuple[int, int], int] = {}
    for pk, lot_id, finished_lot_id, quantity in GenealogyLink.objects.filter(
        order=order, component_lot_id__in=lots
    ).values_list("pk", "component_lot_id", "finished_lot_id", "quantity"):
        held[lot_id, finished_lot_id] += quantity
        if quantity > 0:
            latest[lot_id, finished_lot_id] = pk
    unlinks = []
    for lot_id in sorted(lots):
        linked = sum((q for (lot, _), q in held.items() if lot == lot_id), ZERO)
        excess = linked - max(ZERO, consumed.get(lot_id, ZERO))
        finished = sorted(
            (key for key in held if key[0] == lot_id and held[key] > 0),
            key=lambda key: latest.get(key, 0),
            reverse=True,
        )
        for key in finished:
            if excess <= 0:
                break
            take = min(excess, held[key])
            excess -= take
            unlinks.append(
                GenealogyLink(
                    order=order,
                    finished_lot_id=key[1],
                    component_lot_id=lot_id,
                    quantity=-take,
                    registration=registration,
                )
            )
    GenealogyLink.objects.bulk_create(unlinks)


def _corrected_registrations(ids: set[int | None]) -> dict[int, int]:
    """For the corrections among these registrations: the registration each one reverses."""
    return dict(
        RawRegistration.objects.filter(
            pk__in=[i for i in ids if i is not None],
            kind=RegistrationKind.CORRECTION,
        ).values_list("pk", "corrects_id")
    )


def _take_back(entries: list[_Entry], lot_id: int, quantity: Decimal, corrected: int | None):
    """A return of a lot: from the corrected registration's consumption when it reverses
    one, else (and for any rest) from the latest consumption of that lot."""
    candidates = [e for e in reversed(entries) if e.lot_id == lot_id]
    if corrected is not None:
        candidates.sort(key=lambda e: e.registration_id != corrected)  # stable: latest first
    for entry in candidates:
        take = min(quantity, entry.left)
        entry.left -= take
        quantity -= take
        if not quantity:
            return


def _drop_linked(queues: dict[int, list[_Entry]], order: ProductionOrder) -> None:
    """What earlier finished lots of the order took (net of reversed links), taken from the
    front of each lot's consumption."""
    linked = dict(
        GenealogyLink.objects.filter(order=order)
        .values_list("component_lot_id")
        .annotate(total=Sum("quantity"))
    )
    for entries in queues.values():
        for entry in entries:
            taken = min(entry.left, max(ZERO, linked.get(entry.lot_id, ZERO)))
            if taken:
                entry.left -= taken
                linked[entry.lot_id] -= taken
