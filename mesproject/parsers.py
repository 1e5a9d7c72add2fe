"""The API's JSON parser: bounded nesting, and no control characters in any string.

A body nested hundreds of levels deep made the decoder (or whatever walked the result) hit
Python's recursion limit: a 500. A NUL reached PostgreSQL, which cannot store it: a 500
again. Both are refused here, before any view or the idempotency middleware uses the body.
"""

import re

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from .errors import ApplicationError

# Our deepest real body (a BOM: object, lines, line) is 3 levels; 64 is plenty of room.
MAX_JSON_DEPTH = 64
# C0 controls and DEL; tab, line feed and carriage return may stand in free text (a note).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class JsonRefused(ApplicationError):
    """A JSON body the API does not take: 400 with a code of its own, naming where."""


def json_depth(data) -> int:
    """How deeply lists and objects nest in parsed JSON (a scalar is 0); iterative, so any
    depth is measured without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _control_character_at(data) -> str | None:
    """The path (`lines.0.note`) of the first string or key holding a control character."""
    stack = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if _CONTROL.search(value):
                return path or "body"
        elif isinstance(value, dict):
            for key, child in value.items():
                name = f"{path}.{key}" if path else str(key)
                if _CONTROL.search(key):
                    return name
                stack.append((child, name))
        elif isinstance(value, list):
            stack.extend(
                (child, f"{path}.{i}" if path else str(i)) for i, child in enumerate(value)
            )
    return None


def json_loads(raw: bytes | str):
    """Parse a JSON body as the API takes it; JsonRefused (or ValueError for no JSON)."""
    try:
        # NaN and Infinity are no JSON (DRF's strict mode): no quantity may be NaN.
        data = json.loads(raw, parse_constant=json.strict_constant)
    except RecursionError:
        data, too_deep = None, True
    else:
        too_deep = json_depth(data) > MAX_JSON_DEPTH
    if too_deep:
        raise JsonRefused(
            f"JSON may nest {MAX_JSON_DEPTH} levels deep at most.", code="json_too_deep"
        )
    where = _control_character_at(data)
    if where is not None:
        raise JsonRefused(
            f"{where} holds a control character (only tab and line breaks may stand in text).",
            code="control_character",
            fields={where.split(".", 1)[0]: [f"{where} holds a control character."]},
        )
    return data


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the limits above (the default parser of the API)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", "utf-8")
        try:
            raw = stream.read().decode(encoding) if stream is not None else ""
            return json_loads(raw)
        except JsonRefused:
            raise
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
