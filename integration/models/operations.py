"""Operations: proof that the background processes run."""

from django.db import models


class Heartbeat(models.Model):
    """The last time a background process proved it runs (beat -> broker -> worker -> DB)."""

    name = models.CharField(max_length=64, primary_key=True)
    last_seen = models.DateTimeField()
    count = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"
