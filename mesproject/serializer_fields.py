"""API fields shared by every app's serializers."""

from rest_framework import serializers


class TextField(serializers.CharField):
    """A CharField that takes a JSON string only. DRF's turns a number into text (12 becomes
    "12"), so a body the schema calls invalid (type: string) would be accepted; the contract
    refuses it with 400 like any other field of the wrong type."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
