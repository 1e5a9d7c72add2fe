from django.apps import AppConfig


class WorkplaceConfig(AppConfig):
    """Installed for its management commands (setup_roles, seed_demo); it has no models."""

    name = "mesproject.workplace"
    label = "workplace"
    verbose_name = "Workplace"
