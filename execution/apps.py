from django.apps import AppConfig


class ExecutionConfig(AppConfig):
    name = "execution"
    verbose_name = "Shop-floor execution"

    def ready(self) -> None:
        # orders offers hooks per transition; registering twice is ignored by orders.hooks.
        from inventory.signals import stock_posted
        from orders import hooks
        from orders.choices import Transition

        from . import services
        from .services.arrivals import order_consume_staged_material

        hooks.register_guard(Transition.RELEASE, services.order_release_blockers)
        hooks.register_effect(Transition.RELEASE, services.order_reserve_materials)
        hooks.register_effect(Transition.RELEASE, services.order_create_jobs)
        # After the jobs exist: what is already staged at their resources is consumed.
        hooks.register_effect(Transition.RELEASE, order_consume_staged_material)
        hooks.register_guard(Transition.UNRELEASE, services.order_unrelease_blockers)
        hooks.register_effect(Transition.UNRELEASE, services.order_remove_jobs)
        hooks.register_effect(Transition.UNTERMINATE, services.order_reserve_materials)
        for transition in (Transition.UNRELEASE, Transition.CANCEL, Transition.CLOSE):
            hooks.register_effect(transition, services.order_free_reservations)
        stock_posted.connect(
            services.material_arrived_at_input, dispatch_uid="execution.material_arrived_at_input"
        )
