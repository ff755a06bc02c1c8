"""The parsers of the governed-job command groups: `qgov job`, `qgov ledger`, `qgov token`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from scanner.cli.parsers import handler

# scanner.governed.approvals.ELEVATED_ACTIONS and the names of scanner.governed.drills.DRILLS,
# here so that building the parser loads none of the governed job (a test keeps them equal).
ELEVATED_ACTIONS = ("run-regulated", "export", "debug")
DRILLS = ["access-compromise", "token-leak", "unauthorized-export"]


def register(subparsers: Any) -> None:
    """`qgov job`, `qgov ledger` and `qgov token`."""
    register_job(subparsers)
    register_ledger(subparsers)
    register_token(subparsers)


def format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def ledger_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ledger",
        type=Path,
        metavar="FILE",
        help="audit ledger (default: $QGOV_LEDGER, else .qgov/ledger.jsonl in the current "
        "directory); its signing key is created in the user's key store "
        "($XDG_CONFIG_HOME/qgov/keys/<ledger-id>.pem) unless the policy names one",
    )


def witness_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--witness",
        type=Path,
        metavar="FILE",
        help="also append every signed ledger head to this append-only file (default: the "
        "policy's ledger.witness); keep it outside the ledger folder",
    )


def command_group(subparsers: Any, name: str, help_text: str, actions: str) -> Any:
    """``qgov <name> <action>``: a command group whose action is required."""
    group = subparsers.add_parser(name, help=help_text)
    sub = group.add_subparsers(dest=f"{name}_command", metavar=f"{{{actions}}}")
    sub.required = True
    return sub


def register_job(subparsers: Any) -> None:
    """Add the `job` command group to an argparse subparsers action."""
    actions = command_group(
        subparsers,
        "job",
        "submit, approve, replay, self-test and drill governed quantum jobs",
        "run,approve,replay,selftest,drill",
    )

    run = actions.add_parser(
        "run",
        help="run a job spec through the governed path on the Aer simulator",
        description=(
            "Check identity, authorization, data gate and quota, then run the job on the Aer\n"
            "simulator, or refuse it with the reasons. Either way the audit ledger records it.\n"
            "\n"
            "Identity: --token FILE|-, --token-env VAR or --demo-identity SUBJECT. With none\n"
            "of them, qgov mints a 5-minute token for the policy's demo_default_identity with\n"
            "the public demo issuer key: fine for the dev/test samples, always refused for\n"
            "regulated-pilot and production. A token is good for one request: a second use\n"
            "is refused as a replay. Elevations (regulated backend, export, debug) need an\n"
            "approval granted with 'qgov job approve'.\n"
            "\n"
            "Exit codes: 0 completed; 1 refused, failed in the simulator, or export refused;\n"
            "2 malformed spec/policy or unusable ledger."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("spec", type=Path, help="job spec (YAML)")
    run.add_argument("--policy", type=Path, required=True, help="org policy (YAML)")
    ledger_option(run)
    witness_option(run)
    who = run.add_mutually_exclusive_group()
    who.add_argument(
        "--token", metavar="FILE|-", help="read the identity token (JWT) from a file or stdin"
    )
    who.add_argument(
        "--token-env", metavar="VAR", help="read the identity token from this environment variable"
    )
    who.add_argument(
        "--demo-identity",
        metavar="SUBJECT",
        help="mint a 5-minute demo token for this subject (its issuer must be marked demo)",
    )
    run.add_argument(
        "--approvals",
        type=Path,
        metavar="FILE",
        help="unsigned approval records (YAML): never valid on their own -- an id found there is "
        "refused as unsigned, or as ambiguous if also granted; see 'qgov job approve'",
    )
    run.add_argument(
        "--export",
        type=Path,
        metavar="FILE",
        help="write the result counts here -- a separately authorised and logged export",
    )
    run.add_argument(
        "--records",
        type=Path,
        metavar="DIR",
        help="execution records (default: <ledger dir>/records)",
    )
    run.add_argument(
        "--log-file",
        type=Path,
        metavar="FILE",
        help="scrubbed run log (default: <ledger dir>/governed.log)",
    )
    run.add_argument(
        "--debug",
        action="store_true",
        help="ask for debug logging; granted only inside the policy's approved, time-boxed window",
    )
    run.add_argument(
        "--source", metavar="LABEL", help="caller label recorded as the request source"
    )
    format_option(run)
    run.set_defaults(handler=handler("job_cmds", "cmd_job_run"))

    replay = actions.add_parser(
        "replay", help="re-run a recorded execution and compare the result hash"
    )
    replay.add_argument("record", type=Path, help="execution record (JSON)")
    replay.add_argument(
        "--circuit", type=Path, metavar="FILE", help="circuit file, if not at the recorded path"
    )
    replay.add_argument(
        "--policy", type=Path, help="policy for ledger settings and SIEM forwarding"
    )
    ledger_option(replay)
    witness_option(replay)
    format_option(replay)
    replay.set_defaults(handler=handler("job_cmds", "cmd_job_replay"))

    selftest = actions.add_parser(
        "selftest",
        help="run the control-test scenario and write machine-readable evidence",
        description=(
            "Push jobs through the governed path and check that each control holds, with its\n"
            "evidence in the ledger; write DIR/selftest.json (pass / fail / not-exercised per\n"
            "check) and the evidence beside it.\n"
            "\n"
            "Without --policy the checks run in a built-in world. With --policy they run in a\n"
            "copy of the organisation's: its roles, projects, tiers, backends, registry,\n"
            "elevation rules, revocations and quotas; a self-test key stands in for each\n"
            "issuer's (the organisation's private keys are never needed) and a local collector\n"
            "for the SIEM. A check the policy gives nothing to exercise is not exercised (the\n"
            "reason is recorded); one whose control the policy leaves out or switches off fails.\n"
            "\n"
            "Exit codes: 0 no check failed; 1 a check failed; 2 unusable policy or folder."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    selftest.add_argument("--out", type=Path, required=True, metavar="DIR", help="evidence folder")
    selftest.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="run against this organisation policy (default: the built-in one)",
    )
    format_option(selftest)
    selftest.set_defaults(handler=handler("job_cmds", "cmd_job_selftest"))

    _register_job_identity(actions)


def _register_job_identity(actions: Any) -> None:
    approve = actions.add_parser(
        "approve",
        help="grant a just-in-time approval for a job spec, as the approver, with your token",
        description=(
            "Grant one elevation (run-regulated, export, debug) for one job spec. Your token is\n"
            "verified like a submitter's; you must be a human the policy marks approver: true\n"
            "and not the requester. The approval is bound to the spec's SHA-256, the action,\n"
            "the requester and an expiry, signed, and written to the ledger -- the only place\n"
            "approvals count. Its id is the one the spec names (approval / export_approval) or,\n"
            "for debug, the policy's debug.approval.\n"
            "\n"
            "Exit codes: 0 granted; 1 refused (reasons printed and logged); 2 unusable input."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    approve.add_argument("spec", type=Path, help="the job spec (YAML) to approve")
    approve.add_argument("--policy", type=Path, required=True, help="org policy (YAML)")
    approve.add_argument("--action", required=True, choices=ELEVATED_ACTIONS)
    approve.add_argument("--requester", required=True, metavar="SUBJECT", help="who may use it")
    approve.add_argument("--reason", required=True, help="why (a ticket, a sentence)")
    approve.add_argument(
        "--expires",
        default="1h",
        metavar="DURATION|TIME",
        help="how long it lasts: 30m, 2h, 1h30m, or an ISO time (default 1h; at most "
        "elevation.max_hours)",
    )
    approve.add_argument(
        "--single-use",
        action="store_true",
        help="valid for one request (always so when the policy says elevation.single_use)",
    )
    who = approve.add_mutually_exclusive_group(required=True)
    who.add_argument("--token", metavar="FILE|-", help="the approver's identity token")
    who.add_argument("--token-env", metavar="VAR", help="read it from this environment variable")
    ledger_option(approve)
    format_option(approve)
    approve.set_defaults(handler=handler("job_cmds", "cmd_job_approve"), demo_identity=None)

    drill = actions.add_parser(
        "drill",
        help="play a tabletop incident drill against the policy, with per-step evidence",
        description=(
            "Play an incident end to end in a copy of the policy's world (its identities,\n"
            "roles, projects, backends and registry; a drill issuer key stands in for the\n"
            "real ones) and write per-step evidence -- JSON and the ledger excerpt -- to DIR.\n"
            "  token-leak           a leaked token is replayed, then revoked and refused\n"
            "  access-compromise    a compromised identity is revoked; its jobs are listed\n"
            "  unauthorized-export  export without / with a forged / with a real approval\n"
            "\n"
            "Exit codes: 0 every step behaved as the control requires; 1 a step did not;\n"
            "2 the policy cannot host the drill (e.g. no identity that may run a job)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    drill.add_argument("scenario", choices=DRILLS)
    drill.add_argument("--policy", type=Path, required=True, help="org policy (YAML)")
    drill.add_argument("--out", type=Path, required=True, metavar="DIR", help="evidence folder")
    drill.add_argument(
        "--subject", metavar="SUBJECT", help="the identity to play the victim (default: chosen)"
    )
    format_option(drill)
    drill.set_defaults(handler=handler("job_cmds", "cmd_job_drill"))


def register_ledger(subparsers: Any) -> None:
    """Add the `ledger` command group to an argparse subparsers action."""
    actions = command_group(subparsers, "ledger", "audit ledger tools", "verify,query,metrics")
    verify = actions.add_parser(
        "verify",
        help="check that the ledger is intact, say where it was altered and what was proven",
        description=(
            "Check every line's bytes, the hash chain, the checkpoint and head signatures and\n"
            "that a valid signature covers the last event, then report what was proven.\n"
            "\n"
            "Trust anchor (first found): --public-key, the policy's ledger.public_key, the\n"
            "public half of the policy's ledger.signing_key, the user's key store\n"
            "($XDG_CONFIG_HOME/qgov/keys/<ledger-id>.pub), and last the <ledger>.pub copy\n"
            "beside the ledger -- which proves nothing, so the verdict says 'unanchored'.\n"
            "Freshness (is this the newest copy?): --witness, --min-seq, --head.\n"
            "\n"
            "Verdicts: INTACT; INTACT with qualifiers (unanchored, no signed head, v1\n"
            "signatures); TAMPERED. Exit codes: 0 intact (with --strict: intact without\n"
            "qualifiers); 1 tampered, or a qualifier under --strict; 2 unreadable input."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("ledger", type=Path, help="ledger file (JSON Lines)")
    verify.add_argument(
        "--public-key",
        type=Path,
        metavar="FILE",
        help="trusted ledger key (PEM), kept outside the ledger folder",
    )
    verify.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="take the trusted key (ledger.public_key / signing_key) and witness from this policy",
    )
    verify.add_argument(
        "--witness",
        type=Path,
        metavar="FILE",
        help="witness file of signed heads: detects rollback and truncation",
    )
    verify.add_argument(
        "--min-seq",
        type=int,
        metavar="N",
        help="the ledger must reach at least sequence number N (known from elsewhere)",
    )
    verify.add_argument(
        "--head", metavar="HASH", help="an externally kept head hash that must be present"
    )
    verify.add_argument(
        "--head-file", type=Path, metavar="FILE", help="signed head (default: <ledger>.head)"
    )
    verify.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 unless the ledger is intact, anchored, has a valid signed head and only "
        "v2 signatures",
    )
    format_option(verify)
    verify.set_defaults(handler=handler("ledger_cmds", "cmd_ledger_verify"))
    _register_query(actions)
    _register_metrics(actions)


_TIME_FORMS = "ISO date or datetime (UTC unless it says), or 30m / 24h / 7d / 2w before --as-of"


def _answer_options(parser: argparse.ArgumentParser) -> None:
    """What `query` and `metrics` share: the ledger, its trust anchor and the time window."""
    parser.add_argument("ledger", type=Path, help="ledger file (JSON Lines)")
    parser.add_argument(
        "--public-key",
        type=Path,
        metavar="FILE",
        help="trusted ledger key (PEM), kept outside the ledger folder",
    )
    parser.add_argument(
        "--witness", type=Path, metavar="FILE", help="witness file of signed heads"
    )
    parser.add_argument("--since", metavar="TIME", help=f"from this time on ({_TIME_FORMS})")
    parser.add_argument(
        "--until", metavar="TIME", help="before this time (a date: through that day)"
    )
    parser.add_argument(
        "--as-of",
        metavar="TIME",
        help="the moment relative times and quota periods count from (default: now)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="also exit 1 when the verdict is qualified (unanchored, no signed head, v1)",
    )
    parser.add_argument(
        "--unverified",
        action="store_true",
        help="answer even from a ledger that fails verification (forensics): the answer "
        "says so first and marks what verification does not vouch for; still exit 1",
    )


def _register_query(actions: Any) -> None:
    query = actions.add_parser(
        "query",
        help="who ran what on which backend with which data, and was it allowed (verifies first)",
        description=(
            "Verify the ledger (as 'qgov ledger verify'), then answer from it: one row per job\n"
            "-- when, who (and whether their token verified), project, environment, backend,\n"
            "dataset name/version/SHA-256, decision with reason codes, approvals used and who\n"
            "granted them, the run's outcome and record, exports -- or, with --events, the raw\n"
            "events. Filters apply to the submission (the job's decision event).\n"
            "\n"
            "A ledger that fails verification is refused: nothing is answered, the verdict and\n"
            "its problems go to stderr, exit 1. To investigate it anyway, --unverified answers\n"
            "with the warning first ('answers from a ledger that failed verification: ...'),\n"
            "marks each row resting on events verification does not vouch for and never uses\n"
            "lines that are not valid records; --verified-only answers from the verified part\n"
            "only.\n"
            "\n"
            "Exit codes: 0 intact; 1 failed verification (or qualified, with --strict);\n"
            "2 unreadable input or a usage error."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _answer_options(query)
    query.add_argument("--subject", metavar="S", help="who submitted (the token's subject)")
    query.add_argument("--backend", metavar="B", help="backend name from the policy")
    query.add_argument("--project", metavar="P")
    query.add_argument(
        "--dataset",
        metavar="D",
        help="dataset name, NAME@VERSION, or 8+ hex digits of its SHA-256",
    )
    query.add_argument("--decision", choices=("allow", "deny"))
    query.add_argument(
        "--type",
        metavar="T",
        action="append",
        default=[],
        help="event type (repeatable); jobs: those with such an event; with --events: "
        "those events (ledger.checkpoint and ledger.genesis only when named)",
    )
    query.add_argument("--events", action="store_true", help="list raw events, not jobs")
    query.add_argument(
        "--verified-only",
        action="store_true",
        help="leave out rows and events that verification does not vouch for",
    )
    query.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="take the trusted key and the witness from this policy",
    )
    query.add_argument("--format", choices=("text", "json", "csv"), default="text")
    query.set_defaults(handler=handler("ledger_cmds", "cmd_ledger_query"))


def _register_metrics(actions: Any) -> None:
    metrics = actions.add_parser(
        "metrics",
        help="governance telemetry from the ledger: success rate, time to result, approval "
        "latency, denials by reason, quotas (verifies first)",
        description=(
            "Verify the ledger, then report: job success rate (completed / allowed), time to\n"
            "result (decision -> job.executed; median, p95), approval latency (first refused\n"
            "request naming an approval id -> its grant; grant -> first use), denials by reason\n"
            "code per kind of request, token replays refused, revocations hit, exports, cost\n"
            "anomalies, access reviews recorded and -- with --policy -- quota use per project in\n"
            "the current quota period against the quota, and the exceptions in force.\n"
            "Jobs count in the window of their submission. A ledger that fails verification\n"
            "is refused (exit 1) unless --unverified. CSV: one row per number (metric, item,\n"
            "value), each with the ledger's verdict.\n"
            "\n"
            "Exit codes: 0 intact; 1 failed verification (or qualified, with --strict);\n"
            "2 unreadable input or a usage error."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _answer_options(metrics)
    metrics.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="quotas and the exceptions register from this policy (also its trusted key "
        "and witness)",
    )
    metrics.add_argument("--format", choices=("text", "json", "csv"), default="text")
    metrics.set_defaults(handler=handler("ledger_cmds", "cmd_ledger_metrics"))


def register_token(subparsers: Any) -> None:
    """Add the `token` command group to an argparse subparsers action."""
    actions = command_group(subparsers, "token", "identity token helpers", "mint")
    mint = actions.add_parser(
        "mint",
        help="mint a short-lived identity token (demo issuer or a given key)",
        description=(
            "Mint a signed, short-lived JWT. --demo signs with the demo issuer key derived from "
            "qgov's public demo seed (it proves nothing; refused outside dev/test). --key signs "
            "with your own private key PEM. The token goes to stdout or --out FILE (mode 0600)."
        ),
    )
    source = mint.add_mutually_exclusive_group(required=True)
    source.add_argument("--demo", action="store_true", help="use the public demo issuer key")
    source.add_argument("--key", type=Path, metavar="PEM", help="private key to sign with")
    mint.add_argument("--subject", required=True, help="the 'sub' claim")
    mint.add_argument(
        "--kind", choices=("human", "workload", "service"), help="identity kind claim"
    )
    mint.add_argument("--policy", type=Path, help="take issuer, audience and kind from this policy")
    mint.add_argument("--issuer", help="the 'iss' claim")
    mint.add_argument("--audience", help="the 'aud' claim")
    mint.add_argument("--kid", help="key id header")
    mint.add_argument(
        "--ttl", type=int, default=300, metavar="SECONDS", help="lifetime (default 300)"
    )
    mint.add_argument(
        "--out", type=Path, metavar="FILE", help="write the token here instead of stdout"
    )
    mint.set_defaults(handler=handler("token_cmds", "cmd_token_mint"))
