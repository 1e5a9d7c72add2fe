from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "integration"
    verbose_name = "Integration and operations"

    def ready(self) -> None:
        # Lower apps offer hooks; the outbox rows are written inside their transactions.
        from execution import hooks as execution_hooks
        from inventory.signals import stock_posted
        from mesproject.deployment import is_scale_unit
        from orders import hooks as order_hooks
        from orders.choices import Transition

        from . import read_only, receivers
        from .services import outbox, reversals, scale_units, work_orders

        if is_scale_unit():
            # The ERP is the hub's: a scale unit queues its registrations for the hub, and
            # what the hub owns is read-only here.
            execution_hooks.register_acceptance_effect(scale_units.forward_record)
            # The hub's force close (sent with the order) stops new starts here too.
            execution_hooks.register_start_guard(work_orders.force_close_start_guard)
            read_only.protect_hub_owned_admin()
            return
        stock_posted.connect(receivers.stock_posted, dispatch_uid="integration.stock_posted")
        execution_hooks.register_registration_effect(outbox.registration_outbox_effect)
        execution_hooks.register_registration_effect(reversals.correction_outbox_effect)
        execution_hooks.register_registration_effect(work_orders.force_close_effect)
        execution_hooks.register_start_guard(work_orders.force_close_start_guard)
        execution_hooks.register_pay_basis_effect(outbox.pay_basis_effect)
        for transition in (Transition.COMPLETE, Transition.CANCEL, Transition.CLOSE):
            order_hooks.register_effect(transition, outbox.order_flush_effect)
        order_hooks.register_effect(Transition.CLOSE, outbox.order_genealogy_effect)
        # Orders of sites a scale unit runs: their packages.
        for transition, effect in scale_units.ORDER_PACKAGE_EFFECTS.items():
            order_hooks.register_effect(transition, effect)
        order_hooks.register_effect(order_hooks.CHANGED, scale_units.order_changed_effect)
        execution_hooks.register_acceptance_guard(scale_units.registration_site_guard)
