"""Orders the ERP was force closing before ProductionOrder.closing_since existed: their open
ForceCloseRequest becomes the order's closing_since, so new starts stay refused (on a scale
unit too, which has the requests from the hub's packages)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def forward(apps, schema_editor):
    ForceCloseRequest = apps.get_model("integration", "ForceCloseRequest")
    ProductionOrder = apps.get_model("orders", "ProductionOrder")
    open_requests = ForceCloseRequest.objects.filter(closed_at__isnull=True)
    ProductionOrder.objects.filter(pk__in=open_requests.values("order_id")).update(
        closing_since=Subquery(
            open_requests.filter(order_id=OuterRef("pk")).values("requested_at")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("integration", "0004_outbox_reversals"),
        ("orders", "0003_order_closing_since"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
