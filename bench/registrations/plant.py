"""The plant the registrations are posted in: resources, terminals, items, BOM, route, workers,
stock.
"""

from __future__ import annotations

from types import SimpleNamespace

from .config import D


def build_plant(workers: int, stock_per_part: int):
    from django.contrib.auth import get_user_model  # noqa: F401  (auth app loaded)

    from execution.models import AbsenceCode, IndirectActivity, PayAgreement, Terminal, Worker
    from integration.models import DefectReasonMapping
    from inventory import services as inventory_services
    from inventory.choices import LocationKind, SourceType, Tracking
    from inventory.models import Item, Location, Site, UnitOfMeasure, Warehouse
    from inventory.services import Source
    from mesproject.actors import Actor
    from orders.choices import ConsumptionSetting, ReasonKind
    from orders.models import Bom, BomLine, ReasonCode, Resource, Route, RouteOperation

    pcs = UnitOfMeasure.objects.create(code="pcs", name="pieces", decimal_places=0)
    site = Site.objects.create(code="BR", name="Bench plant")
    warehouse = Warehouse.objects.create(site=site, code="MAIN", name="Main")
    output = Location.objects.create(
        warehouse=warehouse, code="FG", name="Finished goods", kind=LocationKind.PRODUCTION_OUTPUT
    )
    resources = []
    for index in (1, 2, 3):
        resources.append(
            Resource.objects.create(
                code=f"BR-R{index}",
                name=f"Machine {index}",
                site=site,
                consumption_setting=ConsumptionSetting.ON_OPERATION_FEEDBACK,
                input_location=Location.objects.create(
                    warehouse=warehouse,
                    code=f"IN{index}",
                    name=f"Input {index}",
                    kind=LocationKind.PRODUCTION_INPUT,
                ),
                output_location=output,
            )
        )
    terminals = [
        Terminal.objects.create(code=f"T-{r.code}", name=f"Terminal {r.code}", resource=r)
        for r in resources
    ]
    product = Item.objects.create(
        part_number="BR-BIKE", description="Bike", unit=pcs, tracking=Tracking.LOT
    )
    bom = Bom.objects.create(item=product, revision=product.revision, approved=True)
    # (part, principle, operation, quantity per, tracking, input location of)
    lines = [
        ("FRAME", "start", 10, "1", Tracking.LOT, 0),
        ("WHEEL", "operation_finish", 20, "2", Tracking.NONE, 1),
        ("GRIP", "production_finish", None, "2", Tracking.NONE, 2),
        ("BELL", "manual", 30, "1", Tracking.NONE, 2),
    ]
    components = {}
    actor = Actor(process="bench")
    for number, (part, principle, operation, per, tracking, at) in enumerate(lines, start=1):
        component = Item.objects.create(
            part_number=f"BR-{part}", description=part, unit=pcs, tracking=tracking
        )
        components[part] = component
        BomLine.objects.create(
            bom=bom,
            line_number=number * 10,
            component=component,
            quantity_per=D(per),
            flushing_principle=principle,
            operation_number=operation,
        )
        needed = stock_per_part * int(per)
        # Lot-tracked: three lots, the first two run out during the run (FIFO splits).
        lots = (
            [("L1", needed * 2 // 10), ("L2", needed * 2 // 10), ("L3", needed)]
            if tracking == Tracking.LOT
            else [(None, needed * 2)]
        )
        for lot, quantity in lots:
            inventory_services.inventory_receive(
                item=component,
                quantity=D(max(quantity, 1)),
                location=resources[at].input_location,
                lot=f"BR-{part}-{lot}" if lot else None,
                source=Source(SourceType.MANUAL, f"bench-stock-{part}-{lot}"),
                actor=actor,
            )
    route = Route.objects.create(item=product, revision=product.revision, approved=True)
    for index, resource in enumerate(resources, start=1):
        RouteOperation.objects.create(
            route=route,
            operation_number=index * 10,
            name=f"Operation {index * 10}",
            resource=resource,
            setup_time_minutes=D(0),
            run_time_minutes_per_unit=D("1.5"),
        )
    agreement = PayAgreement.objects.create(code="STD", name="Standard")
    people = [
        Worker.objects.create(
            badge_id=f"BR-B{i:04d}", name=f"Worker {i}", site=site, pay_agreement=agreement
        )
        for i in range(1, workers + 1)
    ]
    scrap_reason = ReasonCode.objects.create(
        code="BR-SCRATCH", description="Scratched", kind=ReasonKind.SCRAP
    )
    # Mapped to the ERP's reason code, as in a configured plant: an unmapped defect code
    # dead-letters every scrap message (with an alert) instead of sending it.
    DefectReasonMapping.objects.create(
        defect=scrap_reason, erp_reason_code="SCR-01", cost_center="CC-100"
    )
    return SimpleNamespace(
        site=site,
        output=output,
        resources=resources,
        terminals=terminals,
        product=product,
        components=components,
        workers=people,
        scrap_reason=scrap_reason,
        absence=AbsenceCode.objects.create(code="DOC", description="Doctor"),
        indirect=IndirectActivity.objects.create(code="CLEAN", description="Cleaning"),
    )
