"""Ledger rows cannot be changed or deleted: not through the ORM, the admin, the API, nor
(on PostgreSQL) plain SQL."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from inventory import services
from inventory.choices import SourceType, TransactionKind
from inventory.exceptions import LedgerImmutable
from inventory.models import InventoryTransaction
from inventory.services import JournalLineInput

D = Decimal


@pytest.fixture
def entry(item, stock, receive):
    return receive(item, 5, stock)


def test_model_refuses_update_and_delete(entry):
    entry.quantity = D(500)
    with pytest.raises(LedgerImmutable):
        entry.save()
    with pytest.raises(LedgerImmutable):
        entry.delete()
    entry.refresh_from_db()
    assert entry.quantity == D(5)


def test_queryset_refuses_update_and_delete(entry):
    with pytest.raises(LedgerImmutable):
        InventoryTransaction.objects.filter(pk=entry.pk).update(quantity=D(1))
    with pytest.raises(LedgerImmutable):
        InventoryTransaction.objects.all().delete()
    with pytest.raises(LedgerImmutable):
        InventoryTransaction.objects.bulk_update([entry], ["quantity"])
    assert InventoryTransaction.objects.get().quantity == D(5)


def test_database_checks_back_the_rules(item, stock, entry):
    """A row written around the services still has to make sense."""
    bad = InventoryTransaction(
        kind=TransactionKind.ISSUE,
        item=item,
        location=stock,
        quantity=D(3),  # an issue must be negative
        unit=item.unit,
        order_ref="WO-1",
        source_type=SourceType.MANUAL,
        source_id="x",
        actor="test",
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        bad.save()


@pytest.mark.postgres
def test_trigger_refuses_raw_sql(entry):
    for sql in (
        "UPDATE inventory_inventorytransaction SET quantity = 1 WHERE id = %s",
        "DELETE FROM inventory_inventorytransaction WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    assert InventoryTransaction.objects.get(pk=entry.pk).quantity == D(5)


@pytest.mark.postgres
def test_trigger_refuses_raw_sql_on_posted_journals(item, stock, actor, entry):
    journal = services.adjustment_journal_create(
        reason="count",
        actor=actor,
        lines=[JournalLineInput(item=item, location=stock, quantity=D(1))],
    )
    services.adjustment_journal_post(journal=journal, actor=actor)
    for sql in (
        "UPDATE inventory_adjustmentjournal SET reason = 'x' WHERE id = %s",
        "DELETE FROM inventory_adjustmentjournal WHERE id = %s",
        "UPDATE inventory_adjustmentjournalline SET quantity = 9 WHERE journal_id = %s",
        "DELETE FROM inventory_adjustmentjournalline WHERE journal_id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="posted"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [journal.pk])


def test_admin_shows_the_ledger_read_only(admin_client, entry):
    changelist = reverse("admin:inventory_inventorytransaction_changelist")
    assert admin_client.get(changelist).status_code == 200
    change = reverse("admin:inventory_inventorytransaction_change", args=[entry.pk])
    page = admin_client.get(change)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.post(change, {"quantity": "500"}).status_code == 403
    delete = reverse("admin:inventory_inventorytransaction_delete", args=[entry.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert admin_client.get(reverse("admin:inventory_inventorytransaction_add")).status_code == 403
    bulk = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    assert InventoryTransaction.objects.get(pk=entry.pk).quantity == D(5)


def test_balances_are_read_only_in_admin(admin_client, entry):
    from inventory.models import OnHand

    row = OnHand.objects.get()
    change = reverse("admin:inventory_onhand_change", args=[row.pk])
    assert admin_client.post(change, {"quantity": "999"}).status_code == 403
    row.refresh_from_db()
    assert row.quantity == D(5)


def test_api_is_read_only(admin_client, entry):
    url = reverse("inventory:transaction-detail", args=[entry.pk])
    assert admin_client.get(url).json()["quantity"] == "5.000000"
    body = {"quantity": "1"}
    assert admin_client.put(url, body, content_type="application/json").status_code == 405
    assert admin_client.patch(url, body, content_type="application/json").status_code == 405
    assert admin_client.delete(url).status_code == 405
    listing = reverse("inventory:transaction-list")
    assert admin_client.post(listing, {}, content_type="application/json").status_code == 405
    assert InventoryTransaction.objects.get(pk=entry.pk).quantity == D(5)
