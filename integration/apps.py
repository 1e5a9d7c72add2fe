from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "integration"
    verbose_name = "Integration and operations"

    def ready(self) -> None:
        # execution and inventory announce what integration writes the ERP's messages and the
        # scale units' packages from, inside their transactions (integration/receivers.py).
        from execution.signals import order_changed, registration_processed
        from integration.scale_units import read_only
        from inventory.signals import stock_posted
        from mesproject.deployment import is_scale_unit

        from . import receivers

        if is_scale_unit():
            # The ERP is the hub's (a scale unit forwards its registrations to the hub:
            # settings.MES_SCALE_UNIT_FORWARDER), and what the hub owns is read-only here.
            read_only.protect_hub_owned_admin()
            return
        order_changed.connect(receivers.order_changed, dispatch_uid="integration.order_changed")
        stock_posted.connect(receivers.stock_posted, dispatch_uid="integration.stock_posted")
        registration_processed.connect(
            receivers.registration_processed, dispatch_uid="integration.registration_processed"
        )
