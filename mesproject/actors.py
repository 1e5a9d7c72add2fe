"""Who acted: one type for every app, recorded the same way wherever it is stored.

An Actor is a signed-in user or a named process (the registration processor, the ERP, a
command). A record that keeps who acted keeps two columns, written by `Actor.stamp`: the user
(`<role>`, a nullable foreign key; empty for a process) and the label (`<role>_actor`:
"user:alice", "process:hub-sync"), readable for a process and after a user is renamed. A log
row names them `user` and `actor`. `user_field` and `label_field` declare them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models

if TYPE_CHECKING:  # importable before Django's apps are ready (bench scripts, settings)
    from django.contrib.auth.models import AbstractBaseUser


@dataclass(frozen=True)
class Actor:
    """A signed-in user, or a named process."""

    user: AbstractBaseUser | None = None
    process: str = ""

    @property
    def label(self) -> str:
        if self.user is not None:
            return f"user:{self.user.get_username()}"
        return f"process:{self.process or 'system'}"

    def stamp(self, record, role: str = "") -> list[str]:
        """Write this actor on `record`: `<role>` and `<role>_actor` (a log row: `user` and
        `actor`). Returns the field names, for save(update_fields=...)."""
        user, label = (f"{role}", f"{role}_actor") if role else ("user", "actor")
        setattr(record, user, self.user)
        length = record._meta.get_field(label).max_length
        setattr(record, label, self.label[:length])
        return [user, label]


SYSTEM = Actor(process="system")


def user_field(**options) -> models.ForeignKey:
    """Who acted, when it was a signed-in user (kept while the user exists)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **options,
    )


def label_field(**options) -> models.CharField:
    """Who acted, as the actor's label."""
    return models.CharField(max_length=150, blank=True, **options)
