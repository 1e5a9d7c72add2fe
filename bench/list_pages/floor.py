"""The floor's pages (live floor, attendance, processing log, terminals) and the rows they
list (as in tests/pages/).
"""

import itertools
import sys
import uuid
from datetime import timedelta

from .users import DAY, PIN, D, _seq, light_floor


def _floor_rows():
    """Per row two workers clocked in, one on a started job (tests/pages/test_supervisor.py's
    own helper)."""
    from tests.pages.test_supervisor import floor_volume

    return floor_volume()


def live_floor(client):
    from django.urls import reverse

    return reverse("supervisor:floor"), _floor_rows()


def live_floor_fragment(client):
    from django.urls import reverse

    return reverse("supervisor:floor_fragment"), _floor_rows()


def attendance(client):
    from django.urls import reverse

    from execution.models import AttendanceDay

    worker = light_floor(workers=1).workers[0]
    dates = (DAY - timedelta(days=i) for i in range(100_000))

    def add(n):
        AttendanceDay.objects.bulk_create(
            AttendanceDay(worker=worker, date=next(dates), worked_minutes=D(450)) for _ in range(n)
        )

    return reverse("supervisor:attendance"), add


def processing_log(client):
    """tests/execution/test_processing_log.py: registrations with a worker, an order and a
    job (clock-ins, starts and stops), in every status."""
    from django.urls import reverse
    from django.utils import timezone

    from execution.choices import RegistrationKind, RegistrationStatus
    from execution.models import RawRegistration

    floor = light_floor(workers=2)
    orders = [floor.order(5) for _ in range(3)]
    jobs = [floor.job(order, 10) for order in orders]
    kinds = itertools.cycle(
        [RegistrationKind.START_JOB, RegistrationKind.STOP_JOB, RegistrationKind.CLOCK_IN]
    )
    statuses = itertools.cycle(RegistrationStatus.values)
    at = timezone.now() - timedelta(days=1)

    def add(n):
        rows = []
        for _ in range(n):
            i = next(_seq)
            kind = next(kinds)
            job = jobs[i % 3]
            worker = floor.workers[i % 2]
            on_job = kind != RegistrationKind.CLOCK_IN
            rows.append(
                RawRegistration(
                    uuid=uuid.uuid4(),
                    kind=kind,
                    status=next(statuses),
                    lane=f"order:{job.order_id}" if on_job else f"worker:{worker.pk}",
                    occurred_at=at + timedelta(seconds=i),
                    worker=worker,
                    terminal=floor.terminals[0],
                    resource=floor.resources[0],
                    order_id=job.order_id if on_job else None,
                    job=job if on_job else None,
                )
            )
        RawRegistration.objects.bulk_create(rows, batch_size=2000)

    return reverse("floor:processing_log"), add


def terminal_choice(client):
    """tests/pages/test_terminal.py: the device's list of terminals to be."""
    from django.urls import reverse

    from execution.models import Terminal
    from tests.execution.floor import make_floor

    resource = make_floor(stock=0).resources[0]
    made = itertools.count(1)

    def add(n):
        Terminal.objects.bulk_create(
            Terminal(code=f"V-{next(made):05d}", name="Volume", resource=resource) for _ in range(n)
        )

    return reverse("terminal:home") + "?change=1", add


def terminal_jobs(client):
    """tests/pages/test_terminal.py: a worker signed in at the terminal, clocked in, on a job;
    the screen lists the jobs of the resource."""
    from django.urls import reverse

    from execution.choices import JobKind
    from execution.models import Job
    from execution.services.terminal import worker_set_pin
    from tests.execution.floor import make_floor

    floor = make_floor(stock=0)
    for worker in floor.workers:
        worker_set_pin(worker=worker, pin=PIN)
    code = floor.terminals[0].code

    def url(name: str, *args) -> str:
        return reverse(f"terminal:{name}", args=[code, *args])

    def post(name: str, *args) -> None:
        body = {"registration_uuid": str(uuid.uuid4())}
        response = client.post(url(name, *args), body, follow=True)
        if response.status_code != 200:
            sys.exit(f"terminal {name}: {response.status_code}")

    worker = floor.workers[0]
    client.post(url("sign_in"), {"badge_id": worker.badge_id, "pin": PIN}, follow=True)
    post("clock_in")
    order = floor.order(10)
    post("job_start", floor.job(order, 10).pk)
    resource = floor.resources[0]
    made = itertools.count(1000)

    def add(n):
        Job.objects.bulk_create(
            Job(
                order=order,
                operation_number=next(made),
                operation_name="Volume",
                kind=JobKind.PROCESS,
                resource=resource,
                sequence=9000 + i,
                planned_quantity=D(1),
            )
            for i in range(n)
        )

    return url("terminal"), add
