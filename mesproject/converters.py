"""Path converters of the API's URLs."""

from django.urls import register_converter


class ReferenceConverter:
    """A record's key in a path (wo_id, part number, revision): any characters but `/` and
    control characters. A key with a control character names no record (none can be
    stored: the identifier set refuses them, and PostgreSQL refuses NUL outright), so such a
    path is the API's JSON 404 instead of an error of the database."""

    regex = r"[^/\x00-\x1f\x7f]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferenceConverter, "ref")
