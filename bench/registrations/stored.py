"""The rows registration_accept stores for a terminal's post, built the way it builds them,
and their comparison with what it stored.
"""

from __future__ import annotations

from .config import D
from .shifts import Post


def posted_input(post: Post, plant):
    """The RegistrationInput the endpoint builds from the terminal's post."""
    from execution.services.registrations import RegistrationInput

    kind = post.kind
    return RegistrationInput(
        uuid=post.uuid,
        kind=kind,
        occurred_at=post.at,
        worker=post.worker,
        terminal=plant.terminals[post.resource],
        order=post.order,
        job=post.job,
        jobs=list(post.jobs or []),
        quantity=post.quantity,
        quantity_good=D(post.good),
        quantity_scrap=D(post.scrap),
        reason_code=plant.scrap_reason if post.scrap else None,
        stops_job=post.stops,
        completes_job=post.completes,
        absence_code=plant.absence if kind == "absence" else None,
        absence_minutes=D(post.absence_minutes),
        indirect_activity=plant.indirect if kind == "indirect_start" else None,
        lot_number=post.lot_number,
        material=post.material,
    )


def stored_rows(post: Post, plant):
    """The RawRegistration rows registration_accept stores for the post: what
    registration_check fills in, then the service's own _rows_for."""
    from execution.services.registrations import _rows_for

    data = posted_input(post, plant)
    data.resource = data.terminal.resource
    if data.job is not None:
        data.order = data.job.order
    if post.kind == "indirect_stop":
        data.indirect_activity = plant.indirect
    if post.kind == "report_as_finished" and post.good:
        data.location = plant.resources[post.resource].output_location
    if post.kind == "bundle":
        # What registration_check fills in for a bundle: each job starts the rest of it, and a
        # bundle is always the first start of operation 10 (shifts.py): the order's quantity.
        data.start_quantities = {job.pk: job.order.quantity for job in data.jobs}
    rows = _rows_for(data, "terminal")
    if post.kind not in ("bundle",) and len(rows) != 1:
        raise AssertionError(f"{post.kind} at {post.at} would store {len(rows)} rows")
    return rows


def compare_rows(stored, built) -> list[str]:
    from execution.models import RawRegistration

    skip = {"id", "received_at"}
    problems = []
    by_uuid = {row.uuid: row for row in stored}
    for row in built:
        other = by_uuid.get(row.uuid)
        if other is None:
            problems.append(f"{row.kind} {row.uuid}: not stored by registration_accept")
            continue
        for f in RawRegistration._meta.concrete_fields:
            if f.attname in skip:
                continue
            mine, theirs = getattr(row, f.attname), getattr(other, f.attname)
            if mine != theirs:
                problems.append(
                    f"{row.kind} {row.uuid}: {f.attname} bench={mine!r} service={theirs!r}"
                )
    return problems
