"""The ERP simulator, run as a real process and reached over loopback.

It stands in for the ERP in the delivery tests, so its refusals (signature, staleness,
replay, simulated outages) must be the ones the real ERP contract describes.
"""

import time
import uuid

import pytest
from django.core.management import CommandError, call_command

from integration.erp import signing
from integration.management.commands import erp_simulator as command


def message(**fields) -> dict:
    return {
        "transaction_uuid": str(uuid.uuid4()),
        "message_type": "material_consumption",
        "stream": "WO-1",
        "sequence": 1,
        "wo_id": 17,
        "component_part": "P-100",
        "qty_consumed": "2.000",
        **fields,
    }


def test_signature_header_signs_with_every_secret():
    header = signing.signature_header(b"{}", ["new", "old"], 1700000000)

    assert header.split(",") == [
        "sha256=" + signing.sign(b"{}", "new", 1700000000),
        "sha256=" + signing.sign(b"{}", "old", 1700000000),
    ]
    assert signing.verify(b"{}", header, ["old"], 1700000000)
    assert not signing.verify(b"{}", header, ["other"], 1700000000)
    assert not signing.verify(b"{}", header, ["old"], 1700000001)


def test_a_signed_message_is_accepted_and_recorded(erp_simulator):
    sent = message()

    response = erp_simulator.send(sent)

    assert response.status == 200
    assert response.body == {"status": "accepted", "transaction_uuid": sent["transaction_uuid"]}
    [recorded] = erp_simulator.messages()
    assert recorded["transaction_uuid"] == sent["transaction_uuid"]
    assert (recorded["message_type"], recorded["stream"], recorded["sequence"]) == (
        "material_consumption",
        "WO-1",
        1,
    )
    assert recorded["body"] == sent
    assert recorded["received_at"]


def test_messages_keep_arrival_order_and_filter_by_stream(erp_simulator):
    sent = [message(stream="WO-1"), message(stream="WO-2"), message(stream="WO-1", sequence=2)]
    for each in sent:
        erp_simulator.send(each)

    uuids = [m["transaction_uuid"] for m in erp_simulator.messages(stream="WO-1")]

    assert uuids == [sent[0]["transaction_uuid"], sent[2]["transaction_uuid"]]


def test_a_resent_uuid_is_answered_success_cached_and_recorded_once(erp_simulator):
    sent = message()
    erp_simulator.send(sent, timestamp=int(time.time()) - 1)

    # The MES re-signs a resend with a fresh timestamp.
    response = erp_simulator.send(sent)

    assert response.status == 200
    assert response.body == {
        "status": "duplicate",
        "result": "Success (Cached)",
        "transaction_uuid": sent["transaction_uuid"],
    }
    assert len(erp_simulator.messages()) == 1
    assert erp_simulator.stats()["duplicates"] == 1


def test_a_bad_signature_is_refused_and_not_recorded(erp_simulator):
    response = erp_simulator.send(message(), secrets=["not-the-secret"])

    assert (response.status, response.body["code"]) == (401, "bad_signature")
    assert erp_simulator.messages() == []
    assert erp_simulator.stats()["bad_signature"] == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {signing.TIMESTAMP_HEADER: "soon", signing.SIGNATURE_HEADER: "sha256=00"}],
    ids=["no-headers", "unparseable-timestamp"],
)
def test_an_unsigned_request_is_refused(erp_simulator, headers):
    response = erp_simulator.request("POST", "/api/messages", b"{}", headers)

    assert (response.status, response.body["code"]) == (401, "signature_missing")
    assert erp_simulator.messages() == []


def test_a_stale_timestamp_is_refused_and_not_recorded(erp_simulator):
    response = erp_simulator.send(message(), timestamp=int(time.time()) - 301)

    assert (response.status, response.body["code"]) == (401, "stale_timestamp")
    assert erp_simulator.messages() == []


def test_an_exact_replay_is_refused(erp_simulator):
    body, timestamp = b'{"transaction_uuid": "t-1", "stream": "WO-1"}', int(time.time())
    assert erp_simulator.send(body, timestamp=timestamp).status == 200

    replay = erp_simulator.send(body, timestamp=timestamp)

    assert (replay.status, replay.body["code"]) == (409, "replayed_request")
    assert len(erp_simulator.messages()) == 1
    assert erp_simulator.stats()["replayed"] == 1


@pytest.mark.parametrize("receiver_secret", ["old", "new"])
def test_a_sender_in_rotation_is_accepted_by_either_side(erp_simulator_factory, receiver_secret):
    simulator = erp_simulator_factory(secrets=[receiver_secret])

    response = simulator.send(message(), secrets=["new", "old"])

    assert response.status == 200
    assert len(simulator.messages()) == 1


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"stream": "WO-1"}', b'{"transaction_uuid": 7}']
)
def test_an_invalid_message_is_refused(erp_simulator, body):
    response = erp_simulator.send(body)

    assert (response.status, response.body["code"]) == (400, "invalid_message")
    assert erp_simulator.messages() == []
    assert erp_simulator.stats()["invalid"] == 1


# Each refusing mode, how a client sees it, and the counter it bumps. The timeout outlasts the
# client's 0.3 s timeout, as the real ERP hanging would outlast the MES's.
REFUSALS = {
    "fail": ({}, 503, "unavailable", "failed"),
    "reject": ({}, 422, "rejected", "rejected"),
    "timeout": ({"delay": 1.0}, None, None, "timed_out"),
}


def assert_refused(simulator, mode: str) -> None:
    _, status, code, _ = REFUSALS[mode]
    if status is None:
        with pytest.raises(TimeoutError):
            simulator.send(message(), timeout=0.3)
    else:
        response = simulator.send(message())
        assert (response.status, response.body["code"]) == (status, code)


@pytest.mark.parametrize("mode", REFUSALS)
def test_a_mode_with_a_count_refuses_that_many_then_accepts(erp_simulator, mode):
    options, *_, counter = REFUSALS[mode]
    erp_simulator.set_mode(mode, count=2, **options)

    assert_refused(erp_simulator, mode)
    assert_refused(erp_simulator, mode)

    assert erp_simulator.send(message()).status == 200
    assert len(erp_simulator.messages()) == 1
    assert erp_simulator.stats()[counter] == 2
    assert erp_simulator.mode()["mode"] == "accept"


@pytest.mark.parametrize("mode", REFUSALS)
def test_a_mode_with_seconds_lasts_that_long_then_accepts(erp_simulator, mode):
    options, *_ = REFUSALS[mode]
    erp_simulator.set_mode(mode, seconds=0.5, **options)

    assert_refused(erp_simulator, mode)
    time.sleep(0.5)

    assert erp_simulator.mode()["mode"] == "accept"
    assert erp_simulator.send(message()).status == 200
    assert len(erp_simulator.messages()) == 1


def test_reject_with_match_refuses_only_matching_messages(erp_simulator):
    erp_simulator.set_mode("reject", match={"message_type": "material_consumption"})

    rejected = erp_simulator.send(message())
    accepted = erp_simulator.send(message(message_type="genealogy"))

    assert rejected.status == 422
    assert rejected.body == {"code": "rejected", "message": "Part Number Not Found"}
    assert accepted.status == 200
    assert [m["message_type"] for m in erp_simulator.messages()] == ["genealogy"]


def test_an_invalid_mode_is_refused(erp_simulator):
    with pytest.raises(ValueError, match="mode must be one of"):
        erp_simulator.set_mode("explode")


def test_reset_clears_records_counters_and_mode(erp_simulator):
    erp_simulator.send(message())
    erp_simulator.set_mode("fail")

    erp_simulator.reset()

    assert erp_simulator.messages() == []
    assert set(erp_simulator.stats().values()) == {0}
    assert erp_simulator.mode()["mode"] == "accept"


def test_records_survive_a_restart(erp_simulator):
    sent = message()
    erp_simulator.send(sent, timestamp=int(time.time()) - 1)
    url = erp_simulator.url

    erp_simulator.restart()

    assert erp_simulator.url == url
    assert erp_simulator.wait_for_messages(1)[0]["body"] == sent
    assert erp_simulator.send(sent).body["status"] == "duplicate"


def test_the_command_defaults_to_the_settings_secrets_and_var_dir(settings, monkeypatch):
    calls = []
    monkeypatch.setattr(command, "serve", lambda *args, **kwargs: calls.append(args))
    settings.MES_ERP_SIGNING_SECRETS = ["new", "old"]

    call_command("erp_simulator", "--port", "9999")

    assert calls == [
        ("127.0.0.1", 9999, ["new", "old"], settings.VAR_DIR / "erp-simulator.sqlite3")
    ]


def test_the_command_refuses_to_run_without_a_secret(settings):
    settings.MES_ERP_SIGNING_SECRETS = []

    with pytest.raises(CommandError, match="No signing secret"):
        call_command("erp_simulator")
