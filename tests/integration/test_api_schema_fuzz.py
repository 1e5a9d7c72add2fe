"""Schemathesis against the project's own OpenAPI schema (/api/schema/), in process through
the WSGI application: every API operation gets generated valid and invalid input, and no
answer may be a 5xx or one the schema does not describe (status code, content type, body,
headers).

The caller is a real user of the erp-integration, supervisor and operator groups (between
them every permission the API checks) with a DRF token, as in production. Every write gets
a fresh Idempotency-Key unless the generated one is usable (idempotency itself is proven in
test_work_orders.py). Some master data, orders in several states and inventory rows are
seeded, and a valid case is pointed at them some of the time, so reads, changes and closes
reach real records and not only 404s.
"""

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import CHECKS
from schemathesis.core.parameters import ParameterLocation

from execution.choices import RegistrationKind
from execution.models import Job, PayAgreement, Worker
from execution.services.registrations import RegistrationInput, registration_accept
from inventory import services as inventory
from inventory.choices import SourceType
from inventory.models import InventoryTransaction, OnHand, Reservation
from mesproject.actors import Actor
from mesproject.roles import ERP_INTEGRATION, OPERATOR, SUPERVISOR
from mesproject.workplace.roles import roles_ensure
from mesproject.wsgi import application
from orders.choices import OrderStatus
from tests.factories import LocationFactory, advance_order, make_order, make_releasable_product

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Idempotency keys sent in this run (a key is unique per caller, and the caller is new for
# each operation, but a fresh key per request keeps any two requests apart).
_used_keys: set[str] = set()

# positive_data_acceptance expects every schema-valid request to be accepted (2xx, or
# 401/403/404/409). The contract refuses schema-valid requests for business reasons on
# purpose: 422 master_data_missing for a part, BOM or routing the ERP has not sent, and 400
# with a rule's code (b2mml_invalid for a string that is no B2MML document, worker_required,
# job_unknown...). Random valid-looking data almost always names records that do not exist,
# so the check would only report the contract itself.
POSITIVE_DATA_ACCEPTANCE = CHECKS.get_one("positive_data_acceptance")
# negative_data_rejection stays on for paths, headers and bodies, with two exceptions where
# it does not apply:
# - a query string: DRF's LimitOffsetPagination falls back to its defaults for an offset or
#   limit it cannot use, and django-filter reads an empty filter value as "no filter"; reads
#   are lenient by the frameworks' design and change nothing;
# - a list of registrations: the batch is answered 200 with each registration's own status,
#   so that one refused registration does not refuse the others (its 400 is inside).
NEGATIVE_DATA_REJECTION = CHECKS.get_one("negative_data_rejection")


def _excluded_checks(case) -> list:
    excluded = [POSITIVE_DATA_ACCEPTANCE]
    if case.meta.is_negative_at(ParameterLocation.QUERY) or isinstance(case.body, list):
        excluded.append(NEGATIVE_DATA_REJECTION)
    return excluded


@pytest.fixture
def token(db) -> str:
    roles_ensure()
    user = get_user_model().objects.create_user(f"fuzz-{uuid.uuid4().hex[:8]}")
    user.groups.add(*Group.objects.filter(name__in=[ERP_INTEGRATION, SUPERVISOR, OPERATOR]))
    token, _ = Token.objects.get_or_create(user=user)
    return f"Token {token.key}"


@dataclass
class Seeds:
    """Real records to point valid cases at: path parameters per operation path, and body
    fields per operation ("lines[].wo_id": the field of each item of the list "lines")."""

    paths: dict[str, dict[str, list]]
    bodies: dict[str, dict[str, list]]


@pytest.fixture
def seeded(db) -> Seeds:
    """Orders in each state the ERP meets, their product's part, BOM and routing, stock, a
    reservation, a draft journal and a registration."""
    product = make_releasable_product()
    orders = [
        advance_order(make_order(product, number=f"WO-FUZZ-{status}"), status)
        for status in (
            OrderStatus.CREATED,
            OrderStatus.RELEASED,
            OrderStatus.IN_PROGRESS,
            OrderStatus.COMPLETED,
        )
    ]
    component = product.bom.lines.first().component
    stock = LocationFactory(warehouse__site=product.site)
    actor = Actor(process="fuzz")
    inventory.inventory_receive(
        item=component,
        quantity=Decimal(100),
        location=stock,
        source=inventory.Source(SourceType.MANUAL, "fuzz"),
        actor=actor,
    )
    journal = inventory.adjustment_journal_create(
        reason="count",
        actor=actor,
        lines=[inventory.JournalLineInput(item=component, location=stock, quantity=Decimal(1))],
    )
    worker = Worker.objects.create(
        badge_id="FUZZ-1",
        name="Fuzz",
        site=product.site,
        pay_agreement=PayAgreement.objects.create(code="FUZZ", name="Fuzz"),
    )
    registration = registration_accept(
        data=RegistrationInput(
            uuid=uuid.uuid4(),
            kind=RegistrationKind.CLOCK_IN,
            occurred_at=datetime(2026, 3, 2, 6, 0, tzinfo=UTC),
            worker=worker,
        )
    ).registrations[0]
    wo_ids = [order.number for order in orders]
    item = product.item
    part = {"part_number": [item.part_number], "revision": [item.revision]}
    return Seeds(
        paths={
            "/api/v1/work-orders/{wo_id}/": {"wo_id": wo_ids},
            "/api/v1/work-orders/{wo_id}/close/": {"wo_id": wo_ids},
            "/api/v1/work-orders/{wo_id}/release/": {"wo_id": wo_ids},
            "/api/v1/work-orders/{wo_id}/as-built/": {"wo_id": wo_ids},
            "/api/v1/work-orders/{wo_id}/b2mml/": {"wo_id": wo_ids},
            "/api/v1/parts/{part_number}/": {
                "part_number": [item.part_number, component.part_number]
            },
            "/api/v1/boms/{part_number}/{revision}/": part,
            "/api/v1/routings/{part_number}/{revision}/": part,
            "/api/v1/registrations/{uuid}/": {"uuid": [str(registration.uuid)]},
            "/api/v1/jobs/{id}/": {"id": _pks(Job)},
            "/api/v1/inventory/journals/{id}/": {"id": [journal.pk]},
            "/api/v1/inventory/journals/{id}/post/": {"id": [journal.pk]},
            "/api/v1/inventory/on-hand/{id}/": {"id": _pks(OnHand)},
            "/api/v1/inventory/reservations/{id}/": {"id": _pks(Reservation)},
            "/api/v1/inventory/transactions/{id}/": {"id": _pks(InventoryTransaction)},
        },
        bodies={
            "POST /api/v1/work-orders/": {**part, "site": [product.site.code, ""]},
            "PUT /api/v1/parts/{part_number}/": {"uom": [item.unit.code]},
            "PUT /api/v1/boms/{part_number}/{revision}/": {
                "lines[].component_part": [component.part_number]
            },
            "PUT /api/v1/routings/{part_number}/{revision}/": {
                "operations[].resource_code": list(
                    product.route.operations.values_list("resource__code", flat=True)
                )
            },
            "POST /api/v1/reconciliation/erp-wip/": {
                "lines[].wo_id": wo_ids,
                "lines[].component_part": [component.part_number],
                "lines[].uom": [component.unit.code, ""],
            },
            "POST /api/v1/registrations/": {"badge_id": [worker.badge_id], "order": wo_ids},
        },
    )


def _pks(model) -> list[int]:
    return list(model.objects.values_list("pk", flat=True))


def _point_at_seeded_records(case, data, seeds: Seeds) -> None:
    """Half of the valid cases of an operation with known records name them in the path
    and the body. Only valid cases: in a negative case the field may be the invalid part."""
    if not case.meta.generation.mode.is_positive:
        return
    known_path = seeds.paths.get(case.operation.path)
    if known_path and data.draw(st.booleans(), label="seeded path"):
        for name, values in known_path.items():
            case.path_parameters[name] = data.draw(st.sampled_from(values), label=name)
    known_body = seeds.bodies.get(case.operation.label)
    if known_body and isinstance(case.body, dict) and data.draw(st.booleans(), label="seeded body"):
        for name, values in known_body.items():
            many, _, field = name.rpartition("[].")
            targets = case.body.get(many, []) if many else [case.body]
            for target in targets if isinstance(targets, list) else []:
                if isinstance(target, dict):
                    target[field] = data.draw(st.sampled_from(values), label=name)


def _idempotency_key(case, used: set[str]) -> str | None:
    """The key to send with a write: the generated one while it is usable, else a fresh one.
    A generated key is not usable when it is missing or blank (400) or was sent before in
    this run with another request (422): both are proven in test_work_orders.py and would
    only keep the case from reaching the view. A key generated invalid on purpose (a
    negative header) is sent as it is: None."""
    if case.meta.is_negative_at(ParameterLocation.HEADER):
        return None
    key = (case.headers or {}).get("Idempotency-Key")
    if key is None or not key.strip() or key in used:
        key = str(uuid.uuid4())
    used.add(key)
    return key


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@schema.given(data=st.data())
@settings(
    # Per operation and phase; MES_FUZZ_MAX_EXAMPLES=200 for a deeper run by hand.
    max_examples=int(os.environ.get("MES_FUZZ_MAX_EXAMPLES", "20")),
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        # token and seeded are built once per operation, on purpose: the examples of an
        # operation share the caller and the records (they are read and changed in turn).
        HealthCheck.function_scoped_fixture,
    ],
)
def test_every_operation_answers_within_its_schema(case, data, token, seeded):
    _point_at_seeded_records(case, data, seeded)
    headers = {"Authorization": token}
    if case.method.upper() in WRITES:
        key = _idempotency_key(case, _used_keys)
        if key is not None:
            headers["Idempotency-Key"] = key
    case.call_and_validate(headers=headers, excluded_checks=_excluded_checks(case))
