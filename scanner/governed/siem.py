"""Forwarding ledger events to a syslog/SIEM collector as OCSF-shaped JSON.

Each ledger event becomes one RFC 5424 syslog message over UDP whose body is a JSON object
with OCSF 1.8 field names: token checks map to Authentication (class 3002), everything else
the governed path does -- submissions, executions, exports, alerts, checkpoints -- to API
Activity (class 6003); ``type_uid = class_uid * 100 + activity_id``. The event's ledger
``seq`` and ``hash`` travel along (``unmapped.ledger``), so the SIEM holds an independent copy
of the chain head. Checkpoints carry their signature along, and after each session the signed
head itself (type ``ledger.head``) is sent, so the SIEM holds signed heads that a rollback or
truncation of the ledger file cannot take back. Sending is best effort: the ledger is the
record of truth, and a collector that is down must not stop jobs; failures are counted and
reported, never raised.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime
from typing import Any

from scanner.governed.ledger.format import CHECKPOINT, HEAD_TYPE
from scanner.governed.policy_sections import SyslogTarget
from scanner.governed.timeutil import parse_iso

OCSF_VERSION = "1.8.0"
AUTHENTICATION = (3002, "Authentication", 3, "Identity & Access Management")
API_ACTIVITY = (6003, "API Activity", 6, "Application Activity")

# ledger event type -> (class, activity_id, activity_name)
_MAPPING: dict[str, tuple[tuple[int, str, int, str], int, str]] = {
    "identity.verified": (AUTHENTICATION, 1, "Logon"),
    "identity.rejected": (AUTHENTICATION, 1, "Logon"),
    "job.decision": (API_ACTIVITY, 1, "Create"),
    "job.executed": (API_ACTIVITY, 99, "Other"),
    "job.failed": (API_ACTIVITY, 99, "Other"),
    "result.export": (API_ACTIVITY, 2, "Read"),
    "job.replayed": (API_ACTIVITY, 2, "Read"),
    "cost.anomaly": (API_ACTIVITY, 99, "Other"),
    "debug.mode": (API_ACTIVITY, 3, "Update"),
    HEAD_TYPE: (API_ACTIVITY, 99, "Other"),
}
_DEFAULT = (API_ACTIVITY, 99, "Other")
_USER_TYPES = {"human": (1, "User"), "workload": (3, "System"), "service": (3, "System")}


def _status(event: dict[str, Any]) -> tuple[int, str]:
    decision = event.get("decision")
    if (
        event.get("type") == "job.failed"
        or decision == "deny"
        or event.get("type") == "identity.rejected"
    ):
        return 2, "Failure"
    return 1, "Success"


def _severity(event: dict[str, Any]) -> tuple[int, str, int]:
    """(OCSF severity_id, name, syslog severity)."""
    if event.get("type") == "cost.anomaly":
        return 4, "High", 4
    if event.get("type") == "job.failed":
        return 3, "Medium", 3
    if _status(event)[0] == 2:
        return 3, "Medium", 4
    return 1, "Informational", 6


def _when(event: dict[str, Any]) -> object:
    return event.get("ts") or event.get("signed_at")


def _signed_part(event: dict[str, Any]) -> dict[str, Any]:
    """The signature material of a checkpoint or head, for the SIEM's copy."""
    if event.get("type") == HEAD_TYPE:
        head_keys = ("ledger_id", "format", "payload", "signed_at", "key_id", "signature")
        return {k: event.get(k) for k in head_keys}
    if event.get("type") == CHECKPOINT:
        data = event.get("data") or {}
        return {k: data.get(k) for k in ("covers", "payload", "key_id", "signature")}
    return {}


def to_ocsf(
    event: dict[str, Any], *, hostname: str, product_version: str = "0.1.0"
) -> dict[str, Any]:
    (class_uid, class_name, category_uid, category_name), activity_id, activity_name = _MAPPING.get(
        str(event.get("type")), _DEFAULT
    )
    status_id, status = _status(event)
    severity_id, severity, _ = _severity(event)
    try:
        when = int(parse_iso(str(_when(event))).timestamp() * 1000)
    except ValueError:
        when = 0
    data = event.get("data") or {}
    reasons = data.get("reasons") or []
    ocsf: dict[str, Any] = {
        "time": when,
        "class_uid": class_uid,
        "class_name": class_name,
        "category_uid": category_uid,
        "category_name": category_name,
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": class_uid * 100 + activity_id,
        "type_name": f"{class_name}: {activity_name}",
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "message": f"qgov {event.get('type')}"
        + (f" {event['decision']}" if event.get("decision") else ""),
        "metadata": {
            "version": OCSF_VERSION,
            "uid": event.get("id") or f"{event.get('ledger_id')}:head:{event.get('seq')}",
            "correlation_uid": (event.get("subject") or {}).get("job_id"),
            "log_name": "qgov-ledger",
            "product": {"name": "qgov", "vendor_name": "qgov", "version": product_version},
        },
        "src_endpoint": {"hostname": (event.get("source") or {}).get("host") or hostname},
        "unmapped": {
            "ledger": {
                "seq": event.get("seq"),
                "hash": event.get("hash"),
                "type": event.get("type"),
            },
            "subject": event.get("subject"),
        },
    }
    signed = _signed_part(event)
    if signed:
        ocsf["unmapped"]["ledger"].update(signed)
    if reasons:
        ocsf["status_detail"] = "; ".join(
            str(r.get("code")) for r in reasons if isinstance(r, dict)
        )
    policy = event.get("policy")
    if policy:
        ocsf["policy"] = {
            "uid": policy.get("sha256"),
            "name": policy.get("id"),
            "version": policy.get("version"),
        }
    actor = event.get("actor") or {}
    user = None
    if actor.get("subject"):
        type_id, type_name = _USER_TYPES.get(str(actor.get("kind")), (99, "Other"))
        user = {
            "uid": actor["subject"],
            "name": actor["subject"],
            "type_id": type_id,
            "type": type_name,
        }
    if class_uid == AUTHENTICATION[0]:
        ocsf["auth_protocol_id"] = 99
        ocsf["auth_protocol"] = "JWT"
        ocsf["service"] = {"name": "qgov-governed-jobs"}
        if user:
            ocsf["user"] = user
    else:
        ocsf["api"] = {"operation": event.get("type"), "service": {"name": "qgov-governed-jobs"}}
        if user:
            ocsf["actor"] = {"user": user}
    return ocsf


def syslog_frame(
    ocsf: dict[str, Any], *, app_name: str, hostname: str, severity: int, when: str
) -> bytes:
    facility = 13  # log audit
    pri = facility * 8 + severity
    body = json.dumps(ocsf, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"<{pri}>1 {when} {hostname} {app_name} {os.getpid()} qgov-event - {body}".encode()


class SyslogForwarder:
    """A ledger listener that sends each event as one UDP datagram."""

    def __init__(self, target: SyslogTarget) -> None:
        self.target = target
        self.hostname = socket.gethostname() or "-"
        self.sent = 0
        self.failed = 0
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def __call__(self, event: dict[str, Any]) -> None:
        ocsf = to_ocsf(event, hostname=self.hostname)
        severity = _severity(event)[2]
        when = str(_when(event) or datetime.now().isoformat())
        frame = syslog_frame(
            ocsf,
            app_name=self.target.app_name,
            hostname=self.hostname,
            severity=severity,
            when=when,
        )
        try:
            self._socket.sendto(frame, (self.target.host, self.target.port))
            self.sent += 1
        except OSError:
            self.failed += 1

    def close(self) -> None:
        self._socket.close()


def parse_frame(frame: bytes) -> dict[str, Any]:
    """The OCSF JSON body of a frame made by :func:`syslog_frame` (for tests and tooling)."""
    text = frame.decode("utf-8")
    return dict(json.loads(text[text.index(" - {") + 3 :]))
