import pytest
from tests.integration.test_b2mml import post_schedule, erp, product, operations_schedule, operations_request  # noqa

@pytest.mark.django_db
def test_peek(erp, product):
    xml = operations_schedule(operations_request("WO-BIG", product.item.part_number, "5") + "<!--" + "x" * 3_000_000 + "-->")
    r = post_schedule(erp, xml)
    print(r.status_code, r["Content-Type"], r.content[:300])
