"""Reservations: material set aside at a site for one source line (reservation_set), and
given back when an order no longer needs it (reservation_free_for_order). Issues consume
reservations in posting._post_stock.
"""

import uuid
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ..choices import SourceType
from ..exceptions import InsufficientStock, InvalidMovement, MissingMasterData
from ..fields import ZERO, show
from ..models import InventoryTransaction, Item, Reservation, Site
from ..selectors import available_quantities
from .checks import _check_order_ref, clean_quantity, resolve_item
from .posting import Actor, Source, _increment, _reservation_row


@transaction.atomic
def reservation_set(
    *,
    item: Item | str,
    site: Site,
    quantity: Decimal,
    order_ref: str,
    source: Source,
    actor: Actor,
    allow_shortage: bool = True,
    less_consumed: bool = False,
    reason: str = "",
) -> Reservation:
    """Make the open reservation of one source line exactly `quantity` (0 frees it all).

    Reserves or frees the difference (a ledger row of kind reserve / unreserve), so calling
    it twice with the same quantity changes nothing. With less_consumed, quantity is the
    line's whole requirement and what issues already consumed is deducted (read under the
    reservation's lock). A quantity above what is available at the site is reserved anyway
    and recorded as a shortage (quantity_short), unless allow_shortage is False: then
    InsufficientStock.
    """
    item = resolve_item(item)
    if not isinstance(site, Site) or site.pk is None:
        raise MissingMasterData("The site does not exist.", code="site_unknown")
    zero = isinstance(quantity, Decimal | int) and not isinstance(quantity, bool) and quantity == 0
    target = ZERO if zero else clean_quantity(quantity, unit=item.unit)
    order_ref = _check_order_ref(order_ref, required=True)
    Reservation.objects.get_or_create(
        source_type=source.type,
        source_id=source.id,
        defaults={"item": item, "site": site, "order_ref": order_ref},
    )
    reservation = Reservation.objects.select_for_update().get(
        source_type=source.type, source_id=source.id
    )
    if (reservation.item_id, reservation.site_id, reservation.order_ref) != (
        item.pk,
        site.pk,
        order_ref,
    ):
        raise InvalidMovement(
            f"Source {source.type} {source.id} is already reserved for another item, site "
            "or order.",
            code="reservation_mismatch",
        )
    if less_consumed:
        target = max(ZERO, target - reservation.quantity_consumed)
    delta = target - reservation.quantity_open
    if delta == 0:
        return reservation
    cover = available_quantities(items=[item.pk], site=site, exclude_reservation=reservation.pk)[
        item.pk
    ]
    short = target - max(ZERO, min(target, cover))
    if delta > 0 and short > 0 and not allow_shortage:
        raise InsufficientStock(
            f"Only {show(max(ZERO, cover))} {item.part_number} available at {site.code}; "
            f"{show(target)} asked.",
            code="insufficient_available",
            fields={"available": str(cover), "requested": str(target)},
        )
    now = timezone.now()
    Reservation.objects.filter(pk=reservation.pk).update(
        quantity_open=target,
        quantity_reserved=_increment(
            "quantity_reserved", reservation.quantity_reserved, max(delta, ZERO)
        ),
        quantity_freed=_increment("quantity_freed", reservation.quantity_freed, max(-delta, ZERO)),
        quantity_short=short,
        updated_at=now,
    )
    _reservation_row(
        reservation,
        delta,
        unit_id=item.unit_id,
        source=source,
        actor=actor,
        reason=reason or ("reserved" if delta > 0 else "freed"),
        posting_id=uuid.uuid4(),
        now=now,
    ).save(force_insert=True)
    reservation.refresh_from_db()
    return reservation


@transaction.atomic
def reservation_free_for_order(
    *, order_ref: str, actor: Actor, reason: str = "", source: Source | None = None
) -> Decimal:
    """Give everything still reserved for an order back to general inventory (seed 001,
    "Work Order Close"); returns the quantity freed. Nothing reserved: nothing written."""
    order_ref = _check_order_ref(order_ref, required=True)
    source = source or Source(SourceType.PRODUCTION_ORDER, order_ref)
    reservations = list(
        Reservation.objects.select_for_update(of=("self",))
        .filter(order_ref=order_ref, quantity_open__gt=0)
        .select_related("item")
        .order_by("item_id", "pk")
    )
    now = timezone.now()
    posting_id = uuid.uuid4()
    rows, total = [], ZERO
    for reservation in reservations:
        amount = reservation.quantity_open
        Reservation.objects.filter(pk=reservation.pk).update(
            quantity_open=ZERO,
            quantity_freed=_increment("quantity_freed", reservation.quantity_freed, amount),
            quantity_short=ZERO,
            updated_at=now,
        )
        rows.append(
            _reservation_row(
                reservation,
                -amount,
                unit_id=reservation.item.unit_id,
                source=source,
                actor=actor,
                reason=reason or "freed",
                posting_id=posting_id,
                now=now,
            )
        )
        total += amount
    if rows:
        InventoryTransaction.objects.bulk_create(rows)
    return total
