"""Ready-made ``PackData`` for the renderers' tests and benchmarks.

``sample_pack_data()`` really scans the shipped samples (the leaky and the governed project,
engines off so it takes a second or two) with the sample policy, attestations and vendor
profiles, exactly as ``qgov report`` would. ``synthetic_pack_data(n)`` is the same pack with
``n`` made-up findings in one repository, for render benchmarks of large reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from scanner.model import Domain, Finding, Severity
from scanner.pack.model import PackData
from scanner.pack.rollup import rollup, worst_first
from scanner.paths import data_dir
from scanner.status.controls import compute_status

FIXED_TIME = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


def samples_dir() -> Path:
    """samples/ of a source checkout (the samples do not ship in the wheel)."""
    return data_dir("controls").parent / "samples"


def sample_pack_data(*, engines: bool = False, now: dt.datetime = FIXED_TIME) -> PackData:
    """The pack of samples/leaky-quantum-project and samples/governed-quantum-project."""
    from scanner.cli.report_cmds import collect_from_args, main_args

    samples = samples_dir()
    argv = [
        str(samples / "leaky-quantum-project"),
        str(samples / "governed-quantum-project"),
        "--out", "unused",
        "--policy", str(samples / "policy" / "org-policy.yaml"),
        "--vendors", str(samples / "vendors"),
        "--title", "Audit pack: qgov samples",
    ]
    if not engines:
        argv.append("--no-engines")
    return collect_from_args(main_args(argv), now).data


def synthetic_pack_data(findings: int, *, base: PackData | None = None) -> PackData:
    """``base`` (default: the sample pack) with ``findings`` made-up findings added to its
    first repository, spread over rules, severities and files; statuses recomputed."""
    data = base or sample_pack_data()
    catalog = data.catalog
    rules = sorted(catalog.rules)
    severities = list(Severity)
    made = []
    for n in range(findings):
        rule = catalog.rules[rules[n % len(rules)]]
        made.append(Finding(
            rule_id=rule.id,
            title=rule.title,
            message=f"Synthetic finding {n} of {rule.id} for a render benchmark",
            path=f"src/module_{n % 97:02d}/file_{n % 13}.py",
            line=1 + n % 400,
            severity=severities[n % len(severities)],
            evidence=f"abcd…[40 chars, sha256:{n:08x}]",
            content_hash=f"{n:016x}",
            control_ids=rule.controls,
            domain=catalog.rule_domain(rule) if rule.controls else Domain.SECRETS,
            frameworks=catalog.framework_refs(rule.controls),
            remediation=rule.remediation,
        ))
    first = data.repositories[0]
    result = first.result.model_copy(update={"findings": first.result.findings + tuple(made)})
    status = compute_status(result, catalog, attestations=first.status.attestations,
                            selftest=first.status.selftest, today=data.today)
    changed = replace(first, result=result, status=status)
    repositories = worst_first([changed, *data.repositories[1:]])
    return replace(data, repositories=tuple(repositories),
                   rollup=rollup(catalog, repositories, data.frameworks))
