"""GET /api/v1/jobs/ and /api/v1/jobs/{id}/: a third-party terminal reads a resource's jobs,
their figures and what may still be started and reported on them, without scraping a page."""

import itertools
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from execution.models import Job
from execution.services.limits import job_limits, jobs_limits
from mesproject.roles import OPERATOR, SUPERVISOR
from mesproject.workplace.roles import roles_ensure
from tests.api import openapi_schema, response_codes, token_client
from tests.pages import assert_constant_queries

from .floor import make_floor

pytestmark = pytest.mark.django_db

LIST = "/api/v1/jobs/"


def role_client(role):
    roles_ensure()
    user = get_user_model().objects.create_user(f"{role}-jobs-{get_user_model().objects.count()}")
    user.groups.add(Group.objects.get(name=role))
    return token_client(user)


@pytest.fixture
def floor():
    return make_floor(workers=2)


def test_a_resources_jobs_with_their_figures_and_allowed_quantities(floor):
    order = floor.order(10)
    floor.order(5)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    job = floor.job(order, 10)
    floor.post("start_job", at=5, badge_id=worker, job=job, quantity="4")
    floor.post(
        "report_progress",
        at=20,
        badge_id=worker,
        job=job,
        quantity_good="1",
        quantity_scrap="1",
        reason_code=floor.scrap_reason.code,
    )
    floor.process()
    resource = floor.resources[0]

    response = role_client(OPERATOR).get(LIST, {"resource": resource.code})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 2
    assert {row["resource"] for row in body["results"]} == {resource.code}
    row = next(r for r in body["results"] if r["id"] == job.pk)
    assert row == {
        "id": job.pk,
        "wo_id": order.number,
        "part_number": floor.product.part_number,
        "operation_number": 10,
        "operation_name": "Operation 10",
        "kind": "process",
        "resource": resource.code,
        "status": "started",
        "on_hold": False,
        "qty_planned": "10.000000",
        "qty_started": "4.000000",
        "qty_good": "1.000000",
        "qty_scrap": "1.000000",
        "qty_in_progress": "2.000000",
        # What the door allows now: the order's 10 less the 4 started; the 2 in progress.
        "qty_startable": "6.000000",
        "qty_reportable": "2.000000",
    }
    detail = role_client(OPERATOR).get(f"{LIST}{job.pk}/")
    assert detail.status_code == 200 and detail.json() == row


def test_allowed_quantities_count_registrations_not_processed_yet(floor):
    order = floor.order(10)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    job = floor.job(order, 10)
    floor.post("start_job", at=5, badge_id=worker, job=job, quantity="3")  # not processed

    row = role_client(OPERATOR).get(f"{LIST}{job.pk}/").json()

    assert row["qty_started"] == "0.000000"  # the processed figure
    assert (row["qty_startable"], row["qty_reportable"]) == ("7.000000", "3.000000")
    # The next operation may start only what this one output: nothing yet.
    second = role_client(OPERATOR).get(f"{LIST}{floor.job(order, 20).pk}/").json()
    assert second["qty_startable"] == "0.000000"


def test_a_page_of_jobs_has_the_limits_of_each_job_read_alone(floor):
    order = floor.order(10, over_delivery_tolerance_pct=D("10"))
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    first, second = floor.job(order, 10), floor.job(order, 20)
    floor.post("start_job", at=5, badge_id=worker, job=first, quantity="6")
    floor.post("report_progress", at=10, badge_id=worker, job=first, quantity_good="5")
    floor.process()
    floor.clock_in(floor.workers[1], 12)
    floor.post("start_job", at=15, badge_id=floor.workers[1], job=second, quantity="2")  # pending
    jobs = list(Job.objects.select_related("order").filter(order__site=floor.site))

    bulk = jobs_limits(jobs=jobs)

    assert bulk == {job.pk: job_limits(job=job) for job in jobs}
    assert (bulk[first.pk].startable, bulk[first.pk].reportable) == (D(5), D(1))
    assert (bulk[second.pk].startable, bulk[second.pk].reportable) == (D(3), D(2))


def test_filters_by_status_order_kind_and_hold(floor):
    order = floor.order(10)
    other = floor.order(10)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    floor.post("start_job", at=5, badge_id=worker, job=floor.job(order, 10), quantity="2")
    floor.process()
    client = role_client(SUPERVISOR)

    started = client.get(LIST, {"status": "started"}).json()["results"]
    assert [r["id"] for r in started] == [floor.job(order, 10).pk]
    waiting = client.get(LIST, {"status": ["not_started", "stopped"], "wo_id": other.number})
    assert waiting.json()["count"] == 3
    assert client.get(LIST, {"kind": "setup"}).json()["count"] == 0
    assert client.get(LIST, {"on_hold": "true"}).json()["count"] == 0
    assert client.get(LIST, {"resource": "NOPE"}).json()["count"] == 0


@pytest.mark.parametrize(
    "query", [{"status": "bogus"}, {"kind": "x"}, {"resource": "R\x00"}, {"wo_id": "\x00"}]
)
def test_a_bad_filter_is_a_coded_400(floor, query):
    response = role_client(OPERATOR).get(LIST, query)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and set(query) <= set(response.json()["fields"])


def test_reading_needs_a_floor_role(floor):
    job = floor.job(floor.order(10), 10)
    nobody = token_client(get_user_model().objects.create_user("nobody"))

    assert nobody.get(LIST).status_code == 403
    assert nobody.get(f"{LIST}{job.pk}/").status_code == 403
    assert role_client(OPERATOR).get(f"{LIST}999999/").json()["code"] == "not_found"


def test_the_api_is_read_only(floor):
    job = floor.job(floor.order(10), 10)
    client = role_client(SUPERVISOR)

    assert client.post(LIST, {}, format="json", headers={"Idempotency-Key": "j1"}).status_code in (
        404,
        405,
    )
    response = client.patch(
        f"{LIST}{job.pk}/", {"on_hold": True}, format="json", headers={"Idempotency-Key": "j2"}
    )
    assert response.status_code in (404, 405)
    job.refresh_from_db()
    assert job.on_hold is False


def test_the_list_runs_a_constant_number_of_queries(floor):
    client = role_client(OPERATOR)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)

    minutes = itertools.count(5)

    def add_orders(n):
        for _ in range(n):
            order = floor.order(5)
            # Registrations on the jobs, so the allowed quantities have flows to read.
            job = floor.job(order, 10)
            floor.post("start_job", at=next(minutes), badge_id=worker, job=job, quantity="1")
            floor.post("stop_job", at=next(minutes), badge_id=worker, job=job)

    assert_constant_queries(client, f"{LIST}?limit=1000", add_orders, small=2, large=8)


def test_the_jobs_api_is_in_the_openapi_schema(db):
    schema = openapi_schema()

    assert {"200", "400", "403"} <= response_codes(schema, "/api/v1/jobs/", "get")
    assert {"200", "404"} <= response_codes(schema, "/api/v1/jobs/{id}/", "get")
    properties = schema["components"]["schemas"]["Job"]["properties"]
    assert {"qty_startable", "qty_reportable", "qty_in_progress"} <= set(properties)
    assert properties["qty_startable"]["type"] == "string"
