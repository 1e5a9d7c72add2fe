from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "integration"
    verbose_name = "Integration and operations"

    def ready(self) -> None:
        # Lower apps offer hooks; the outbox rows are written inside their transactions.
        from execution import hooks as execution_hooks
        from execution.signals import order_changed, registration_processed
        from integration.erp.services import outbox
        from integration.scale_units import read_only
        from integration.scale_units import services as scale_units
        from inventory.signals import stock_posted
        from mesproject.deployment import is_scale_unit

        from . import receivers

        if is_scale_unit():
            # The ERP is the hub's: a scale unit queues its registrations for the hub, and
            # what the hub owns is read-only here.
            execution_hooks.register_acceptance_effect(scale_units.forward_record)
            read_only.protect_hub_owned_admin()
            return
        execution_hooks.register_pay_basis_effect(outbox.pay_basis_effect)
        order_changed.connect(receivers.order_changed, dispatch_uid="integration.order_changed")
        stock_posted.connect(receivers.stock_posted, dispatch_uid="integration.stock_posted")
        registration_processed.connect(
            receivers.registration_processed, dispatch_uid="integration.registration_processed"
        )
        execution_hooks.register_acceptance_guard(scale_units.registration_site_guard)
