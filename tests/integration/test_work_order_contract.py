"""The ERP work-order contract where it had gaps: concurrent creates of one wo_id, and the
release of an order through the API (on its own endpoint, or on create)."""

import threading
import time

import pytest
from django.db import connection

from orders.models import ProductionOrder
from tests.api import new_key
from tests.factories import make_releasable_product

from .helpers import create_body, erp_client

CREATE = "/api/v1/work-orders/"


def _post_all_at_once(client, bodies: list[dict]) -> list[tuple[int, dict]]:
    """Every body posted by its own thread (own connection, own Idempotency-Key), released
    together by a barrier."""
    barrier = threading.Barrier(len(bodies))
    answers: list[tuple[int, dict]] = []

    def post(index, body):
        try:
            barrier.wait()
            # Staggered by a few milliseconds: a later request must also find the first
            # one committed between its own look-up and its insert.
            time.sleep(index * 0.004)
            response = client.post(CREATE, body, format="json", headers=new_key())
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=pair) for pair in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_wo_id_make_one_201_and_the_rest_200():
    product = make_releasable_product()
    client = erp_client()
    # Several rounds: the losing request must take the update path whether it sees the
    # winner's row before its insert (committed) or only at its insert (unique index).
    for round_ in range(4):
        wo_id = f"WO-RACE-{round_}"
        answers = _post_all_at_once(
            client, [create_body(product, wo_id, qty=str(10 + n)) for n in range(8)]
        )
        codes = sorted(code for code, _ in answers)
        assert codes == [200] * 7 + [201], [body for code, body in answers if code >= 400]
        order = ProductionOrder.objects.get(number=wo_id)
        assert order.status == "created"
        # The last update wins; every answer shows the order as the read does.
        assert all(body["work_order"]["wo_id"] == wo_id for _, body in answers)
