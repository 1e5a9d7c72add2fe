"""Integration with the ERP and the operations side (heartbeats of background processes)."""

from django.db import models


class Heartbeat(models.Model):
    """The last time a background process proved it runs (beat -> broker -> worker -> DB)."""

    name = models.CharField(max_length=64, primary_key=True)
    last_seen = models.DateTimeField()
    count = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"
