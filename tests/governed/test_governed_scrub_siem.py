"""Scrubbing of logs and events, and OCSF forwarding to a real local UDP collector."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from scanner.governed.scrub import Scrubber, ScrubbingFilter
from scanner.governed.siem import parse_frame, to_ocsf
from tests.governed.helpers import BELL, DATASET, NOW, World


def test_scrubber_replaces_registered_values_and_jwts(world: World) -> None:
    scrubber = Scrubber()
    token = world.token()
    scrubber.register("token", token)
    scrubber.register("circuit", BELL, by_line=True)
    text = f"submitted {token} with\n{BELL} and a stray {world.token(ttl=60)}"
    clean = scrubber.scrub(text)
    assert token not in clean and "cx q[0], q[1];" not in clean
    assert "[scrubbed token sha256:" in clean and "[scrubbed circuit sha256:" in clean
    assert "[scrubbed jwt sha256:" in clean  # unregistered, but shaped like a JWT
    assert scrubber.leaks(clean) == [] and set(scrubber.leaks(text)) >= {"token", "circuit", "jwt"}
    # A single line of the circuit is caught too, short generic lines are left alone.
    assert "include" not in scrubber.scrub('include "qelib1.inc";')
    assert scrubber.scrub("h q[0];") == "h q[0];"


def test_scrub_obj_walks_nested_events() -> None:
    scrubber = Scrubber()
    scrubber.register("dataset", DATASET, by_line=True)
    event = {"data": {"rows": ["syn-0001,0.125000,0.875000"], "n": 3}, "ok": True}
    assert scrubber.scrub_obj(event)["data"]["rows"][0].startswith("[scrubbed dataset")
    assert scrubber.scrub_obj(event)["data"]["n"] == 3


def test_logging_filter_and_debug_mode(world: World) -> None:
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    scrubber = Scrubber()
    token = world.token()
    scrubber.register("token", token)
    scrubber.register("circuit", BELL, by_line=True)
    log = logging.getLogger("qgov.tests.scrub")
    log.propagate = False
    handler = Keep()
    handler.addFilter(ScrubbingFilter(scrubber))
    log.addHandler(handler)
    try:
        log.warning("token=%s circuit=%s", token, BELL)
        scrubber.debug = True
        log.warning("token=%s circuit=%s", token, BELL)
    finally:
        log.removeHandler(handler)
    assert token not in records[0] and "cx q[0], q[1];" not in records[0]
    assert token not in records[1] and "cx q[0], q[1];" in records[1]  # debug shows circuits only


def test_run_log_and_ledger_hold_hashes_not_payloads(world: World) -> None:
    token = world.token()
    outcome = world.run(token=token)
    log = (world.ledger.parent / "governed.log").read_text(encoding="utf-8")
    ledger = world.ledger.read_text(encoding="utf-8")
    for text in (log, ledger):
        assert token not in text
        assert "cx q[0], q[1];" not in text and "OPENQASM" not in text
        assert "syn-0001" not in text
    assert outcome.record_path is not None
    record = json.loads(outcome.record_path.read_text(encoding="utf-8"))
    assert f"circuit_sha256={record['circuit']['sha256']}" in log and '"num_qubits":2' in ledger


def test_approved_debug_mode_is_time_boxed(world: World) -> None:
    world.policy["debug"] = {
        "enabled": True,
        "until": (NOW + timedelta(hours=1)).isoformat(),
        "approval": "D",
    }
    outcome = world.run(debug=True)
    assert not outcome.debug_mode  # no approval yet
    assert world.grant("j2", "debug").granted  # the id is the policy's debug.approval
    outcome = world.run("j2", debug=True)
    assert outcome.debug_mode
    log = (world.ledger.parent / "governed.log").read_text(encoding="utf-8")
    assert "cx q[0], q[1];" in log  # the approved debug window shows the circuit text
    world.now = NOW + timedelta(hours=2)
    outcome = world.run("j3", debug=True, token=world.token(issued=world.now))
    assert not outcome.debug_mode
    events = [json.loads(x) for x in world.ledger.read_text().splitlines()]
    decisions = [e["decision"] for e in events if e["type"] == "debug.mode"]
    assert decisions == ["deny", "allow", "deny"]


@pytest.fixture
def collector() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    yield sock
    sock.close()


def receive_all(sock: socket.socket) -> list[bytes]:
    frames = [sock.recvfrom(65535)[0]]
    sock.settimeout(0.2)
    while True:
        try:
            frames.append(sock.recvfrom(65535)[0])
        except TimeoutError:
            return frames


def test_events_reach_a_syslog_collector_as_ocsf(world: World, collector: socket.socket) -> None:
    port = collector.getsockname()[1]
    world.policy["siem"] = {"syslog": {"host": "127.0.0.1", "port": port, "protocol": "udp"}}
    token = world.token()
    outcome = world.run(token=token)
    refused = world.run("bad", token=world.token(audience="elsewhere"))
    frames = receive_all(collector)
    assert outcome.siem_sent > 0 and outcome.siem_failed == 0
    ledger_events = [json.loads(line) for line in world.ledger.read_text().splitlines()]
    assert all(f.startswith(b"<") and b" qgov " in f for f in frames)  # RFC 5424 header
    assert not any(token.encode() in f for f in frames)
    events = [parse_frame(f) for f in frames]
    # Every event, and after each ledger session its signed head.
    heads = [e for e in events if e["unmapped"]["ledger"]["type"] == "ledger.head"]
    assert len(events) - len(heads) == len(ledger_events) and heads
    assert [e["unmapped"]["ledger"]["hash"] for e in events if e not in heads] == [
        e["hash"] for e in ledger_events
    ]
    last = heads[-1]["unmapped"]["ledger"]
    assert (last["seq"], last["hash"]) == (ledger_events[-1]["seq"], ledger_events[-1]["hash"])
    assert last["payload"] == "qgov-ledger-head-v2" and last["signature"]
    checkpoint = next(e for e in events if e["unmapped"]["ledger"]["type"] == "ledger.checkpoint")
    assert checkpoint["unmapped"]["ledger"]["signature"]
    by_type: dict[str, dict] = {}
    for event in events:  # the first event of each type (the allowed job's)
        by_type.setdefault(event["unmapped"]["ledger"]["type"], event)
    auth = by_type["identity.verified"]
    assert (auth["class_uid"], auth["type_uid"], auth["user"]["uid"]) == (
        3002,
        300201,
        "alice@tests.invalid",
    )
    submit = by_type["job.decision"]
    assert (submit["class_uid"], submit["activity_id"], submit["type_uid"]) == (6003, 1, 600301)
    assert submit["actor"]["user"]["type"] == "User" and submit["policy"]["name"] == "tests"
    rejected = by_type["identity.rejected"]
    assert rejected["status_id"] == 2 and "TOKEN_WRONG_AUDIENCE" in rejected["status_detail"]
    assert refused.status == "refused"
    assert all(e["type_uid"] == e["class_uid"] * 100 + e["activity_id"] for e in events)


def test_siem_outage_does_not_stop_jobs(world: World) -> None:
    # Nothing listens on this port; UDP sends still succeed or fail quietly.
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    world.policy["siem"] = {"syslog": {"host": "127.0.0.1", "port": port}}
    assert world.run().status == "completed"


def test_ocsf_mapping_of_alerts_and_exports() -> None:
    base = {"ts": "2026-11-25T10:00:00.000000Z", "seq": 4, "hash": "ab", "subject": {"job_id": "j"}}
    alert = to_ocsf({**base, "type": "cost.anomaly", "decision": "alert"}, hostname="h")
    assert alert["severity_id"] == 4 and alert["class_uid"] == 6003
    export = to_ocsf({**base, "type": "result.export", "decision": "deny"}, hostname="h")
    assert (export["activity_id"], export["status"]) == (2, "Failure")
    assert (
        export["time"] == int(NOW.timestamp() * 1000)
        and export["metadata"]["correlation_uid"] == "j"
    )


def test_sample_policy_never_contains_a_private_key() -> None:
    from tests.governed.helpers import SAMPLES

    for path in (SAMPLES / "policy").rglob("*"):
        if path.is_file():
            assert "PRIVATE KEY" not in path.read_text(encoding="utf-8")
    assert Path(SAMPLES / "jobs" / "bell.qasm").exists()
