"""Integration models: the ERP contract's idempotency, outbox, change requests, alerts and
reconciliation, and the operations side (heartbeats)."""

from .erp import ChangeRequest, DefectReasonMapping, ForceCloseRequest, Notification
from .idempotency import IdempotencyKey
from .operations import Heartbeat
from .outbox import MaterialIssueBatch, OutboxFix, OutboxMessage, OutboxStream
from .reconciliation import ErpWipLine, ErpWipSnapshot, ReconciliationRun, ReconciliationVariance
from .scale_units import (
    HubForward,
    HubLink,
    HubPackage,
    ReceivedPackage,
    ScaleUnit,
    ScaleUnitSite,
)

__all__ = [
    "ChangeRequest",
    "DefectReasonMapping",
    "ErpWipLine",
    "ErpWipSnapshot",
    "ForceCloseRequest",
    "Heartbeat",
    "HubForward",
    "HubLink",
    "HubPackage",
    "IdempotencyKey",
    "MaterialIssueBatch",
    "Notification",
    "OutboxFix",
    "OutboxMessage",
    "OutboxStream",
    "ReceivedPackage",
    "ReconciliationRun",
    "ReconciliationVariance",
    "ScaleUnit",
    "ScaleUnitSite",
]
