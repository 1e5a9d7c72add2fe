"""The one character set of the identifiers other systems send us: work order ids (`wo_id`),
part numbers, revisions and lot numbers (docs/integration.md, "Identifiers").

An identifier is ASCII letters, digits and `- _ . : # +`, starting with a letter or a digit,
at most as long as its model field. So it can stand in a URL path segment (no `/`, never `.`
or `..`), reads the same everywhere (no spaces, control or bidirectional characters such as
U+202E), and the database can store it (no NUL). A refusal is 422 `identifier_invalid`,
naming the field.
"""

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status

from mesproject.errors import ApplicationError

CHARACTERS = "ASCII letters, digits and - _ . : # + (starting with a letter or a digit)"
PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:#+\-]*$"
_VALID = re.compile(PATTERN)

# The model fields' lengths: Item.part_number / revision, ProductionOrder.number, Lot.number.
MAX_LENGTH = {"wo_id": 64, "part_number": 64, "revision": 16, "lot_number": 64}


class IdentifierInvalid(ApplicationError):
    """An identifier outside the documented character set or its length."""

    code = "identifier_invalid"
    http_status = status.HTTP_422_UNPROCESSABLE_ENTITY


def identifier_problem(value: object, *, max_length: int) -> str:
    """Why the value is no identifier, or "" when it is one."""
    if not isinstance(value, str):
        return "must be a string"
    if not value:
        return "may not be blank"
    if len(value) > max_length:
        return f"is longer than {max_length} characters"
    if _VALID.fullmatch(value) is None:
        return f"may only contain {CHARACTERS}"
    return ""


def identifier_check(value: object, *, field: str, max_length: int | None = None) -> str:
    """The value, when it is a valid identifier for `field`; IdentifierInvalid otherwise."""
    problem = identifier_problem(value, max_length=max_length or MAX_LENGTH[field])
    if problem:
        raise IdentifierInvalid(
            f"{field} {problem}.", fields={field: [f"{problem} (got {value!r})."]}
        )
    return value


@extend_schema_field({"type": "string", "pattern": PATTERN, "minLength": 1})
class IdentifierField(serializers.CharField):
    """A serializer field for an identifier: a refusal is 422 `identifier_invalid`, not the
    400 of a field error, so the caller learns which rule it broke."""

    def __init__(self, *, identifier: str, **kwargs):
        self.identifier = identifier
        kwargs.setdefault("max_length", MAX_LENGTH[identifier])
        super().__init__(trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        return identifier_check(
            data, field=self.field_name or self.identifier, max_length=self.max_length
        )
