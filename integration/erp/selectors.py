"""Reads the integration pages share: which outbox messages are held."""

from django.db.models import Exists, OuterRef, Q

from integration.choices import MessageStatus
from integration.erp.services.outbox import earlier_open


def dead_letters_before(*, stream, sequence):
    """The earlier open messages of the stream that are dead letters: they hold a message.
    (An earlier pending one is only the queue the relay keeps, not a hold.)"""
    return earlier_open(stream=stream, sequence=sequence).filter(status=MessageStatus.DEAD_LETTER)


def held():
    """The condition on a message row: pending, behind a dead letter of its stream."""
    return Q(status=MessageStatus.PENDING) & Exists(
        dead_letters_before(stream=OuterRef("stream"), sequence=OuterRef("sequence"))
    )


def with_held(queryset):
    """Annotate `held` (see held())."""
    return queryset.annotate(held=held())
