"""B2MML (ISA-95) in and out: POST /api/v1/b2mml/schedule/ and GET
/api/v1/work-orders/{wo_id}/b2mml/.

The messages sent in are checked against the official schemas (V0700 and V0401) where they
claim to be valid, so the import is proven on real documents; every export is validated
against the V0700 schema copied into the repository (integration/b2mml/schemas/).
"""

import functools
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import xmlschema
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Sum

import integration.b2mml
from execution.models import PickingListLine, RawRegistration, ReportAsFinishedLine, RouteCardLine
from execution.services import order_lifecycle
from integration.b2mml.schedule import schedule_parse
from inventory.choices import Tracking
from mesproject.errors import ApplicationError
from mesproject.roles import ERP_INTEGRATION
from orders.choices import OrderStatus
from orders.models import ProductionOrder
from tests.api import new_key, token_client
from tests.execution.floor import make_floor
from tests.factories import make_order, make_releasable_product

D = Decimal
SCHEMAS = Path(integration.b2mml.__file__).parent / "schemas"
V0700 = "http://www.mesa.org/xml/B2MML"
V0401 = "http://www.wbf.org/xml/B2MML-V0401"
NS = {"b": V0700}
SCHEDULE_URL = "/api/v1/b2mml/schedule/"


@functools.cache
def schema(name: str) -> xmlschema.XMLSchema:
    """Loaded once per run: the V0700 set takes seconds."""
    return xmlschema.XMLSchema(str(SCHEMAS / name))


def v0700_schema() -> xmlschema.XMLSchema:
    return schema("AllSchemas.xsd")


def v0401_schema() -> xmlschema.XMLSchema:
    return schema("V0401/B2MML-V0401-ProductionSchedule.xsd")


# --- Documents as ERPs send them -----------------------------------------------------------


def operations_request(
    wo_id: str,
    part: str,
    quantity: str,
    *,
    start: str = "2026-04-01T06:00:00Z",
    priority: str | None = None,
    revision: str | None = None,
) -> str:
    """A V0700 OperationsRequest: one segment producing the part and consuming a component
    (whose own Revision property must not be taken for the product's)."""
    priority_xml = f"<Priority>{priority}</Priority>" if priority else ""
    revision_xml = (
        f"<MaterialRequirementProperty><ID>Revision</ID><Value><ValueString>{revision}"
        "</ValueString></Value></MaterialRequirementProperty>"
        if revision
        else ""
    )
    return f"""
  <OperationsRequest>
    <ID>{wo_id}</ID>
    <Description>Order from the ERP</Description>
    <StartTime>{start}</StartTime>
    <OperationsType>Production</OperationsType>
    {priority_xml}
    <SegmentRequirement>
      <ID>SEG-1</ID>
      <ProcessSegmentID>ASSEMBLY</ProcessSegmentID>
      <OperationsDefinitionID>{part}</OperationsDefinitionID>
      <OperationsSegmentID>ASSEMBLY</OperationsSegmentID>
      <MaterialRequirement>
        <ID>IN-1</ID>
        <MaterialDefinitionID>SOME-COMPONENT</MaterialDefinitionID>
        <MaterialUse>Consumed</MaterialUse>
        <Quantity><QuantityString>999</QuantityString><UnitOfMeasure>pcs</UnitOfMeasure></Quantity>
        <MaterialRequirementProperty>
          <ID>Revision</ID><Value><ValueString>Z</ValueString></Value>
        </MaterialRequirementProperty>
      </MaterialRequirement>
      <MaterialRequirement>
        <ID>OUT-1</ID>
        <MaterialDefinitionID>{part}</MaterialDefinitionID>
        <MaterialUse>Produced</MaterialUse>
        <Quantity><QuantityString>{quantity}</QuantityString><UnitOfMeasure>pcs</UnitOfMeasure></Quantity>
        {revision_xml}
      </MaterialRequirement>
    </SegmentRequirement>
  </OperationsRequest>"""


def operations_schedule(*requests: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OperationsSchedule xmlns="{V0700}">
  <ID>SCHEDULE-1</ID>
  <PublishedDate>2026-03-30T12:00:00Z</PublishedDate>
  {"".join(requests)}
</OperationsSchedule>""".encode()


def production_schedule(wo_id: str, part: str, quantity: str, revision: str) -> bytes:
    """A V0401 ProductionSchedule, as many ERPs in the field still send."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ProductionSchedule xmlns="{V0401}">
  <ID>SCHEDULE-0401</ID>
  <ProductionRequest>
    <ID>{wo_id}</ID>
    <ProductProductionRuleID>{part}</ProductProductionRuleID>
    <StartTime>2026-04-02T08:30:00+02:00</StartTime>
    <Priority>2</Priority>
    <SegmentRequirement>
      <ID>SEG-1</ID>
      <ProductionParameter>
        <Parameter>
          <ID>Revision</ID>
          <Value><ValueString>{revision}</ValueString><DataType>string</DataType>
          <UnitOfMeasure/></Value>
        </Parameter>
      </ProductionParameter>
      <MaterialProducedRequirement>
        <MaterialDefinitionID>{part}</MaterialDefinitionID>
        <Quantity><QuantityString>{quantity}</QuantityString><DataType>decimal</DataType>
        <UnitOfMeasure>pcs</UnitOfMeasure></Quantity>
      </MaterialProducedRequirement>
    </SegmentRequirement>
  </ProductionRequest>
</ProductionSchedule>""".encode()


def lenient_schedule(wo_id: str, part: str) -> bytes:
    """What real ERPs send: a transaction wrapper without its required releaseID and
    ApplicationArea, prefixes mixed with default and foreign namespaces, unknown elements,
    no StartTime (the segment's EarliestStartTime instead), a segment without its required
    IDs, a priority out of our range and no revision (the part's current one applies)."""
    return f"""<b2:ProcessOperationsSchedule xmlns:b2="{V0700}" xmlns:erp="urn:acme:erp">
  <erp:Header><erp:Sender>SAP-PRD</erp:Sender></erp:Header>
  <b2:DataArea>
    <b2:Process/>
    <OperationsSchedule xmlns="{V0700}">
      <OperationsRequest>
        <b2:ID>{wo_id}</b2:ID>
        <erp:Plant>1000</erp:Plant>
        <Priority>12</Priority>
        <SegmentRequirement>
          <EarliestStartTime>2026-04-03T07:00:00</EarliestStartTime>
          <b2:MaterialRequirement>
            <MaterialUse>Produced</MaterialUse>
            <MaterialDefinitionID>{part}</MaterialDefinitionID>
            <Quantity><QuantityString> 7 </QuantityString></Quantity>
            <erp:Batch/>
          </b2:MaterialRequirement>
        </SegmentRequirement>
        <SegmentRequirement xmlns="">
          <EarliestStartTime>2026-04-02T22:00:00+00:00</EarliestStartTime>
        </SegmentRequirement>
      </OperationsRequest>
    </OperationsSchedule>
  </b2:DataArea>
</b2:ProcessOperationsSchedule>""".encode()


# --- Fixtures --------------------------------------------------------------------------------


def erp_user(*codenames: str, username: str = "erp"):
    """The ERP integration role (its group, here without its permissions) and codenames."""
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "x")
    user.groups.add(Group.objects.get_or_create(name=ERP_INTEGRATION)[0])
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
    )
    return user


@pytest.fixture
def erp():
    return token_client(erp_user("add_productionorder", "view_productionorder"))


@pytest.fixture
def product():
    return make_releasable_product()


def post_schedule(client, xml: bytes, *, headers=None, content_type="application/xml"):
    return client.post(
        SCHEDULE_URL, data=xml, content_type=content_type, headers=headers or new_key()
    )


# --- Schedule in -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_operations_schedule_with_two_requests_creates_two_orders(erp, product):
    part = product.item.part_number
    xml = operations_schedule(
        operations_request("WO-B1", part, "25", priority="2", revision="A"),
        operations_request("WO-B2", part, "7.0", start="2026-04-02T08:30:00+02:00"),
    )
    v0700_schema().validate(xml.decode())  # a real V0700 document
    response = post_schedule(erp, xml)
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "work_orders": [
            {"wo_id": "WO-B1", "status": OrderStatus.CREATED, "created": True},
            {"wo_id": "WO-B2", "status": OrderStatus.CREATED, "created": True},
        ]
    }
    first, second = ProductionOrder.objects.filter(number__in=["WO-B1", "WO-B2"]).order_by("number")
    assert (first.item, first.revision, first.quantity, first.priority) == (
        product.item,
        "A",
        D(25),
        2,
    )
    assert first.scheduled_start == datetime(2026, 4, 1, 6, 0, tzinfo=UTC)
    assert first.site == product.site  # no site named: the routing's first operation's
    assert (second.quantity, second.priority, second.revision) == (D(7), 5, "A")
    assert second.scheduled_start == datetime(2026, 4, 2, 6, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_a_v0401_production_schedule_creates_the_order(erp, product):
    part = product.item.part_number
    xml = production_schedule("WO-OLD-1", part, "12", product.item.revision)
    v0401_schema().validate(xml.decode())  # a real V0401 document
    response = post_schedule(erp, xml, content_type="text/xml")
    assert response.status_code == 201, response.json()
    order = ProductionOrder.objects.get(number="WO-OLD-1")
    assert (order.item, order.revision, order.quantity, order.priority) == (
        product.item,
        "A",
        D(12),
        2,
    )
    assert order.scheduled_start == datetime(2026, 4, 2, 6, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_a_lenient_real_world_message_still_imports(erp, product):
    xml = lenient_schedule("WO-LAX-1", product.item.part_number)
    assert not v0700_schema().is_valid(xml.decode())  # the schema would refuse it
    response = post_schedule(erp, xml)
    assert response.status_code == 201, response.json()
    order = ProductionOrder.objects.get(number="WO-LAX-1")
    assert (order.item, order.revision, order.quantity) == (product.item, "A", D(7))
    assert order.priority == 9  # 12 clamped
    # The earliest of the segments' start times (the one without offset in the plant's zone).
    assert order.scheduled_start == datetime(2026, 4, 2, 22, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_site_named_in_the_hierarchy_scope_is_the_orders_site(erp, product):
    request = operations_request("WO-SITE", product.item.part_number, "1").replace(
        "<OperationsType>",
        f"<HierarchyScope><EquipmentID>{product.site.code}</EquipmentID>"
        "<EquipmentLevel>Site</EquipmentLevel></HierarchyScope><OperationsType>",
        1,
    )
    xml = operations_schedule(request)
    v0700_schema().validate(xml.decode())
    assert post_schedule(erp, xml).status_code == 201
    assert ProductionOrder.objects.get(number="WO-SITE").site == product.site


@pytest.mark.django_db
@pytest.mark.parametrize("unknown_is", ["first", "second"])
def test_an_unknown_part_refuses_the_whole_document(erp, product, unknown_is):
    known = operations_request("WO-K1", product.item.part_number, "5")
    unknown = operations_request("WO-U1", "NO-SUCH-PART", "5")
    requests = (unknown, known) if unknown_is == "first" else (known, unknown)
    response = post_schedule(erp, operations_schedule(*requests))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "master_data_missing"
    assert "NO-SUCH-PART" in body["message"]
    assert body["fields"]["request_id"] == "WO-U1"
    assert body["fields"]["missing"] == ["part NO-SUCH-PART"]
    assert not ProductionOrder.objects.filter(number__in=["WO-K1", "WO-U1"]).exists()


@pytest.mark.django_db
def test_an_unknown_revision_is_refused_naming_bom_and_routing(erp, product):
    xml = operations_schedule(
        operations_request("WO-R9", product.item.part_number, "5", revision="R9")
    )
    response = post_schedule(erp, xml)
    assert response.status_code == 422
    part = product.item.part_number
    assert response.json()["fields"]["missing"] == [f"BOM {part} rev R9", f"routing {part} rev R9"]


INVALID_BODIES = {
    "not well-formed": (b"<OperationsSchedule><ID>x</ID>", {}),
    "empty": (b"", {}),
    "no request": (f'<OperationsSchedule xmlns="{V0700}"><ID>S</ID></OperationsSchedule>', {}),
    "entity expansion": (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
        b"<OperationsSchedule><ID>&b;</ID></OperationsSchedule>",
        {},
    ),
    "no ID": (
        operations_schedule(operations_request("", "P-1", "5")),
        {"request_index": 1, "request_id": "", "missing": ["ID"]},
    ),
    "no quantity": (
        operations_schedule(
            operations_request("WO-1", "P-1", "5"), operations_request("WO-2", "P-1", "")
        ),
        {"request_index": 2, "request_id": "WO-2", "missing": ["quantity"]},
    ),
    "no produced material": (
        operations_schedule(
            operations_request("WO-3", "P-1", "5").replace(">Produced<", ">Consumed<")
        ),
        {"request_id": "WO-3", "missing": ["produced material", "quantity"]},
    ),
    "quantity not a number": (
        operations_schedule(operations_request("WO-4", "P-1", "5,5")),
        {"request_id": "WO-4", "quantity": "5,5"},
    ),
    "quantity zero": (
        operations_schedule(operations_request("WO-5", "P-1", "0")),
        {"request_id": "WO-5", "quantity": "0"},
    ),
    "quantity too precise": (
        operations_schedule(operations_request("WO-5b", "P-1", "1.0000001")),
        {"request_id": "WO-5b", "quantity": "1.0000001"},
    ),
    "quantity beyond any context": (
        operations_schedule(operations_request("WO-5c", "P-1", "1E+999999999")),
        {"request_id": "WO-5c", "quantity": "1E+999999999"},
    ),
    "bad start time": (
        operations_schedule(operations_request("WO-6", "P-1", "5", start="next monday")),
        {"request_id": "WO-6", "start_time": "next monday"},
    ),
    "bad priority": (
        operations_schedule(operations_request("WO-7", "P-1", "5", priority="high")),
        {"request_id": "WO-7", "priority": "high"},
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", INVALID_BODIES)
def test_an_invalid_document_is_refused_with_b2mml_invalid(erp, product, case):
    body, fields = INVALID_BODIES[case]
    xml = body.encode() if isinstance(body, str) else body
    response = post_schedule(erp, xml)
    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == "b2mml_invalid", answer
    assert answer["message"]
    assert fields.items() <= answer["fields"].items(), answer
    assert not ProductionOrder.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "start, stored",
    [
        # PostgreSQL takes offsets up to 15:59 only: handed on as it came, this was a 500.
        ("2026-04-01T06:00:00-19:11", datetime(2026, 4, 2, 1, 11, tzinfo=UTC)),
        ("0001-01-01T00:00:00+14:00", None),  # before year 1 in UTC: was a 500 on saving
    ],
)
def test_a_start_time_at_any_offset_is_stored_in_utc_or_refused(erp, product, start, stored):
    xml = operations_schedule(
        operations_request("WO-9", product.item.part_number, "5", start=start)
    )
    response = post_schedule(erp, xml)
    if stored is None:
        assert response.status_code == 400 and response.json()["code"] == "b2mml_invalid"
        assert response.json()["fields"]["start_time"] == start
        assert not ProductionOrder.objects.exists()
    else:
        assert response.status_code == 201, response.json()
        assert ProductionOrder.objects.get(number="WO-9").scheduled_start == stored


@pytest.mark.django_db
def test_a_document_above_5_mb_is_refused(erp, product):
    padding = "<!--" + "x" * (5 * 2**20) + "-->"
    request = operations_request("WO-BIG", product.item.part_number, "5")
    response = post_schedule(erp, operations_schedule(request, padding))
    assert response.status_code == 400
    assert response.json()["code"] == "b2mml_invalid"
    assert not ProductionOrder.objects.exists()


@pytest.mark.parametrize(
    ("priority", "expected"), [("3", 3), ("0", 1), ("-4", 1), ("2.5", 3), ("1E+999999999", 9)]
)
def test_the_priority_is_clamped_to_1_to_9(priority, expected):
    request = operations_request("WO-P", "P-1", "5", priority=priority)
    assert schedule_parse(operations_schedule(request))[0].priority == expected


def test_two_different_produced_materials_are_refused_not_guessed():
    request = (
        operations_request("WO-2P", "P-1", "5")
        .replace(">SOME-COMPONENT<", ">P-2<")
        .replace(">Consumed<", ">Produced<")
    )
    with pytest.raises(ApplicationError) as refused:
        schedule_parse(operations_schedule(request))
    assert refused.value.code == "b2mml_invalid"
    assert refused.value.fields["produced"] == ["P-1", "P-2"]


@pytest.mark.django_db
def test_the_same_wo_id_again_while_created_updates_the_order(erp, product):
    part = product.item.part_number
    first = operations_schedule(operations_request("WO-U", part, "5"))
    assert post_schedule(erp, first).status_code == 201
    again = operations_schedule(operations_request("WO-U", part, "8", priority="1"))
    response = post_schedule(erp, again)
    assert response.status_code == 200
    assert response.json()["work_orders"] == [
        {"wo_id": "WO-U", "status": OrderStatus.CREATED, "created": False}
    ]
    order = ProductionOrder.objects.get(number="WO-U")
    assert (order.quantity, order.priority) == (D(8), 1)


@pytest.mark.django_db
def test_the_same_wo_id_once_released_is_refused_with_its_request_id(erp, product):
    order = make_order(product, number="WO-REL")
    order_lifecycle.order_release(order=order)
    xml = operations_schedule(operations_request("WO-REL", product.item.part_number, "5"))
    response = post_schedule(erp, xml)
    assert response.status_code == 409
    assert response.json()["code"] == "wo_exists"
    assert response.json()["fields"]["request_id"] == "WO-REL"


@pytest.mark.django_db
def test_a_replay_with_the_same_key_returns_the_first_answer(erp, product):
    xml = operations_schedule(operations_request("WO-IDEM", product.item.part_number, "5"))
    key = new_key()
    first = post_schedule(erp, xml, headers=key)
    again = post_schedule(erp, xml, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert ProductionOrder.objects.filter(number="WO-IDEM").count() == 1


@pytest.mark.django_db
def test_a_write_without_idempotency_key_is_refused(erp, product):
    xml = operations_schedule(operations_request("WO-NOKEY", product.item.part_number, "5"))
    response = erp.post(SCHEDULE_URL, data=xml, content_type="application/xml")
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_missing"


@pytest.mark.django_db
def test_json_is_not_a_b2mml_body(erp):
    response = erp.post(SCHEDULE_URL, data={"wo_id": "x"}, format="json", headers=new_key())
    assert response.status_code == 415


@pytest.mark.django_db
def test_without_permission_the_import_and_the_export_are_forbidden(product):
    client = token_client(erp_user(username="operator"))
    xml = operations_schedule(operations_request("WO-NOPE", product.item.part_number, "5"))
    assert post_schedule(client, xml).status_code == 403
    order = make_order(product)
    assert client.get(f"/api/v1/work-orders/{order.number}/b2mml/").status_code == 403
    assert not ProductionOrder.objects.filter(number="WO-NOPE").exists()


# --- Performance out -------------------------------------------------------------------------


def export(client, wo_id: str) -> ET.Element:
    """GET the document, check it is XML, validate it against the V0700 schema, parse it."""
    response = client.get(f"/api/v1/work-orders/{wo_id}/b2mml/", HTTP_ACCEPT="application/xml")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/xml")
    v0700_schema().validate(response.content.decode())
    return ET.fromstring(response.content)


def material_actuals(document: ET.Element, use: str) -> dict[tuple[str, str], Decimal]:
    """(part, lot) -> quantity summed over the segments, for one MaterialUse."""
    totals: dict[tuple[str, str], Decimal] = {}
    for actual in document.iterfind(".//b:MaterialActual", NS):
        if actual.findtext("b:MaterialUse", namespaces=NS) != use:
            continue
        key = (
            actual.findtext("b:MaterialDefinitionID", namespaces=NS),
            actual.findtext("b:MaterialLotID", default="", namespaces=NS),
        )
        quantity = D(actual.findtext("b:Quantity/b:QuantityString", namespaces=NS))
        totals[key] = totals.get(key, D(0)) + quantity
    return totals


def segment_data(document: ET.Element, name: str) -> dict[str, Decimal]:
    return {
        segment.findtext("b:ID", namespaces=NS): D(
            segment.find(f"b:SegmentData[b:ID='{name}']/b:Value/b:ValueString", NS).text
        )
        for segment in document.iterfind(".//b:SegmentResponse", NS)
    }


def run_order_on_the_floor(floor, order) -> None:
    """One worker through the three operations (1 scrapped at 20), then a report as
    finished of lot BIKE-LOT-1, through the registrations endpoint and the processor."""
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    # Operations 10 and 20 make one more, scrapped at 20 (the order's tolerance allows it).
    for index, operation in enumerate((10, 20, 30)):
        job = floor.job(order, operation)
        made = order.quantity + 1 if operation < 30 else order.quantity
        floor.post("start_job", at=index * 30 + 1, badge_id=worker, job=job, quantity=str(made))
        fields = {"quantity_good": str(made), "completes_job": True}
        if operation == 20:
            fields.update(
                quantity_good=str(order.quantity),
                quantity_scrap="1",
                reason_code=floor.scrap_reason.code,
            )
        floor.post("report_progress", at=index * 30 + 20, badge_id=worker, job=job, **fields)
    floor.post(
        "report_as_finished",
        at=95,
        order=order,
        quantity_good=str(order.quantity),
        terminal=floor.terminals[2].code,
        lot_number="BIKE-LOT-1",
    )
    summary = floor.process()
    assert summary.failed == 0, RawRegistration.objects.filter(status="failed").values("error")


def journal_consumed(order) -> dict[tuple[str, str], Decimal]:
    rows = (
        PickingListLine.objects.filter(order=order)
        .values("component__part_number", "lot__number")
        .annotate(total=Sum("quantity"))
    )
    return {(r["component__part_number"], r["lot__number"] or ""): D(r["total"]) for r in rows}


def journal_produced(order) -> dict[tuple[str, str], Decimal]:
    rows = (
        ReportAsFinishedLine.objects.filter(order=order)
        .values("item__part_number", "lot__number")
        .annotate(total=Sum("quantity_good"))
    )
    return {(r["item__part_number"], r["lot__number"] or ""): D(r["total"]) for r in rows}


@pytest.mark.django_db
def test_the_export_of_a_run_order_validates_and_carries_the_journals(erp):
    floor = make_floor(stock=0, product_tracking=Tracking.LOT)
    frame = floor.components["FRAME"]
    frame.tracking = Tracking.LOT
    frame.save()
    floor.stock("FRAME", 6, floor.resources[0].input_location, lot="FR-OLD")
    floor.stock("FRAME", 20, floor.resources[0].input_location, lot="FR-NEW")
    for part in ("WHEEL", "GRIP", "BELL"):
        for resource in floor.resources:
            floor.stock(part, 100, resource.input_location)
    # The order arrives from the ERP as B2MML, then runs on the floor.
    xml = operations_schedule(operations_request("WO-RUN", floor.product.part_number, "10"))
    assert post_schedule(erp, xml).status_code == 201
    # A planner allows 10 % over-delivery before release: one more frame may be started.
    ProductionOrder.objects.filter(number="WO-RUN").update(over_delivery_tolerance_pct=10)
    order = order_lifecycle.order_release(order=ProductionOrder.objects.get(number="WO-RUN"))
    run_order_on_the_floor(floor, order)

    document = export(erp, "WO-RUN")
    assert document.tag == f"{{{V0700}}}OperationsPerformance"
    responses = document.findall("b:OperationsResponse", NS)
    assert len(responses) == 1
    assert responses[0].findtext("b:ResponseState", namespaces=NS) == "Completed"
    assert responses[0].findtext("b:OperationsRequestID", namespaces=NS) == "WO-RUN"
    p = floor.product.part_number
    frame, wheel, grip = (floor.components[k].part_number for k in ("FRAME", "WHEEL", "GRIP"))
    consumed = material_actuals(document, "Consumed")
    assert consumed == journal_consumed(order)
    assert consumed == {
        (frame, "FR-OLD"): D(6),  # first in, first out
        (frame, "FR-NEW"): D(5),
        (wheel, ""): D(22),  # 11 through op 20 (1 scrapped) x 2
        (grip, ""): D(20),  # production finish: 10 x 2
    }
    produced = material_actuals(document, "Produced")
    assert produced == journal_produced(order) == {(p, "BIKE-LOT-1"): D(10)}
    # A segment per operation with the route card's quantities and the job states.
    assert segment_data(document, "QuantityGood") == {"10": 11, "20": 10, "30": 10}
    assert segment_data(document, "QuantityScrap") == {"10": 0, "20": 1, "30": 0}
    minutes = RouteCardLine.objects.filter(order=order).aggregate(total=Sum("minutes"))["total"]
    assert sum(segment_data(document, "LaborMinutes").values()) == D(minutes)
    states = [s.text for s in document.iterfind(".//b:SegmentResponse/b:SegmentState", NS)]
    assert states == ["Completed"] * 3
    # Material in the segment of its operation; the finished goods off the last one.
    last = document.findall(".//b:SegmentResponse", NS)[-1]
    assert [m.text for m in last.iterfind("b:MaterialActual/b:MaterialUse", NS)][-1] == "Produced"


@pytest.mark.django_db
def test_the_export_of_a_fresh_created_order_validates(erp, product):
    order = make_order(product, number="WO-FRESH")
    document = export(erp, order.number)
    response = document.find("b:OperationsResponse", NS)
    assert response.findtext("b:ResponseState", namespaces=NS) == "Waiting"
    segments = response.findall("b:SegmentResponse", NS)
    assert [s.findtext("b:ID", namespaces=NS) for s in segments] == ["10", "20", "30"]
    assert document.find(".//b:MaterialActual", NS) is None


@pytest.mark.django_db
def test_the_export_of_an_unknown_wo_id_is_404_json(erp):
    response = erp.get("/api/v1/work-orders/NO-SUCH-WO/b2mml/", HTTP_ACCEPT="application/xml")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
