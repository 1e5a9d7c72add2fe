"""Who acted: one type for every app, recorded the same way wherever it is stored.

An Actor is a signed-in user or a named process (the registration processor, the ERP, a
command). A record that keeps who acted keeps its label ("user:alice", "process:hub-sync"),
readable for a process and after a user is renamed, and the user as a foreign key where the
record has one.
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


SYSTEM = Actor(process="system")
