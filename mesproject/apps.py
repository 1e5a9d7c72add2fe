from django.apps import AppConfig


class PlatformConfig(AppConfig):
    """What every app shares and none owns: background task records (mesproject.models)."""

    name = "mesproject"
    verbose_name = "Platform"
