from django.apps import AppConfig


class ExecutionConfig(AppConfig):
    name = "execution"
    verbose_name = "Shop-floor execution"

    def ready(self) -> None:
        # inventory announces every posting: stock put at a resource's input location is
        # consumed by the orders that need it there, in the posting's transaction.
        from inventory.signals import stock_posted

        from . import services

        stock_posted.connect(
            services.material_arrived_at_input, dispatch_uid="execution.material_arrived_at_input"
        )
