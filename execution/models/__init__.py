"""Shop-floor execution: people, terminals, reference data, jobs, registrations, journals and
attendance.

One module per subject; every model is imported here because Django and the rest of the code
look them up in execution.models.
"""

from .attendance import AttendanceDay
from .floor import MINUTES, AbsenceCode, IndirectActivity, PayAgreement, Terminal, Worker
from .jobs import Job
from .journals import (
    GenealogyLink,
    JobActivity,
    LogbookEntry,
    MaterialLineState,
    PickingListLine,
    ReportAsFinishedLine,
    RouteCardLine,
)
from .registrations import ProcessingLogEntry, RawRegistration

__all__ = [
    "MINUTES",
    "AbsenceCode",
    "AttendanceDay",
    "GenealogyLink",
    "IndirectActivity",
    "Job",
    "JobActivity",
    "LogbookEntry",
    "MaterialLineState",
    "PayAgreement",
    "PickingListLine",
    "ProcessingLogEntry",
    "RawRegistration",
    "ReportAsFinishedLine",
    "RouteCardLine",
    "Terminal",
    "Worker",
]
