"""Who acted: one type for every app, recorded the same way wherever it is stored.

An Actor is a signed-in user or a named process (the registration processor, the ERP, a
command). Where a record keeps who acted it keeps two columns: the user (a nullable foreign
key, kept while the user exists) and the label ("user:alice", "process:hub-sync"), which
stays readable for a process and after a user is renamed. `stamp` writes both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None

    def stamp(self, record, field: str) -> list[str]:
        """Record this actor on `record` as `<field>` (the user) and `<field>_actor` (the
        label); the names written, for update_fields."""
        setattr(record, f"{field}_id", self.user_id)
        setattr(record, f"{field}_actor", self.label)
        return [field, f"{field}_actor"]


SYSTEM = Actor(process="system")
