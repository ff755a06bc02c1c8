"""`qgov job selftest`: prove the governed path's controls by exercising them.

The scenario builds a small world in the evidence folder -- a policy with a freshly generated
issuer key, approvals, job specs, a circuit and datasets -- and pushes jobs through the real
governed path: one allowed job that runs and verifies, refusals for an expired role, a wrong
environment, regulated data in an exploratory tier, a dataset hash mismatch, a missing or
self-granted approval, an exhausted quota and forged/expired/wrong-audience tokens; a burst
that raises an alert; a simulator failure that is recorded, not dropped; a scrubbed log; a
tampered ledger that verification catches; a replay that matches; SIEM forwarding to a local
UDP collector. Each check names the catalog controls it evidences and passes only if the
expected outcome *and* its evidence in the ledger are there.

- ``scenario``         the world and the helpers checks use
- ``registry``         the ``@check`` decorator, the registered checks, results
- ``checks_access``    identity, authorization, data gate, approvals, quotas
- ``checks_identity``  token replay, forged approvals, the dataset registry, free-text
  scrubbing, revocation
- ``checks_evidence``  failed runs, scrubbing, tampering, replay, SIEM
- ``checks_ledger``    the ledger's trust: anchored key, signed coverage, head/checkpoint
  domain separation, witnessed heads against rollback, exact bytes, refused links
- ``checks_provenance`` the execution record's provenance; provider adapters behind the gate
- ``runner``           ``run_selftest``: every check in order, then ``selftest.json``
"""

# Importing the check modules registers their checks, in this order (the order they run in);
# the package does it so that every way in (runner, registry, tests) sees all of them.
from scanner.governed.selftest import (  # noqa: F401
    checks_access,
    checks_evidence,
    checks_identity,
    checks_ledger,
    checks_provenance,
)
from scanner.governed.selftest.registry import CHECKS, Check, CheckResult
from scanner.governed.selftest.runner import run_selftest


def proved_controls() -> set[str]:
    """Every catalog control some self-test check evidences."""
    return {control for registered in CHECKS for control in registered.control_ids}


__all__ = ["CHECKS", "Check", "CheckResult", "proved_controls", "run_selftest"]
