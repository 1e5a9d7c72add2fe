"""The adversarial terminal's requests (Probe), what must come of each, and the
constants its impossible posts are built from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

PATH = "/api/v1/registrations/"
ADVERSARY_BADGE = "5901"  # a worker of the soak's site that only the adversary uses
FOREIGN_SITE = "SKX"
FOREIGN_BADGE = "5999"  # a worker of the other site
FOREIGN_TERMINAL = "T-SKX-01"
SPOOFED_SOURCE = "scale-unit:PLANT2"
HUGE = "1000"  # beyond any soak order (4-12 pieces) and anything in progress on it


@dataclass
class Probe:
    """One adversarial request and what must come of it."""

    attack: str
    body: bytes
    expect: str  # refused (4xx), replayed (200, Idempotent-Replayed), accepted (2xx)
    uuids: list[str] = field(default_factory=list)  # its registration_uuids, when valid
    token: str = "operator"  # key of the token to post with; "" for none
    headers: dict = field(default_factory=dict)
    original: tuple[str, str, object] | None = None  # duplicate: (uuid, field, first value)


def _terminal(resource: int) -> str:
    return f"T-SK-{resource:02d}"


def _at(moment: datetime) -> str:
    return moment.isoformat()


def _code(data) -> str:
    if not isinstance(data, dict):
        return "-"
    code = str(data.get("code", "-"))
    if code == "invalid" and isinstance(data.get("fields"), dict):
        code += "(" + ",".join(sorted(data["fields"])) + ")"
    return code
