"""Write ``docs/rules/<RULE-ID>.md`` (one page per shipped rule, plus an index) from
``scanner/rules/*.yaml`` and the controls they map to. SARIF's ``helpUri`` points at these
pages; tests/reports/test_rule_docs.py fails when they are out of date.

    python -m scanner.reports.rule_docs          # rewrite docs/rules/
    python -m scanner.reports.rule_docs --check  # exit 1 if a page differs
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from scanner.catalog import Catalog, Rule, load_catalog

_FOOTER = (
    "*Generated from `scanner/rules/` and `controls/` by `python -m scanner.reports.rule_docs`; "
    "edit those, not this page.*"
)


def rule_page(rule: Rule, catalog: Catalog) -> str:
    severity = catalog.rule_severity(rule).value
    domain = catalog.rule_domain(rule).value
    lines = [
        f"# {rule.id}: {rule.title}",
        "",
        f"Default severity **{severity}** · domain {domain} · controls "
        + ", ".join(rule.controls),
        "",
        "## What it finds",
        "",
        rule.description.strip(),
        "",
        "## How to fix it",
        "",
        (rule.remediation or catalog.controls[rule.controls[0]].remediation).strip(),
        "",
        "## Controls and requirements",
        "",
    ]
    for control_id in rule.controls:
        control = catalog.controls[control_id]
        lines.append(f"- **{control.id} {control.title}**: {control.objective.strip()}")
        for key, ids in catalog.framework_refs([control_id]):
            name = catalog.frameworks[key].name if key in catalog.frameworks else key
            lines.append(f"  - {name}: {', '.join(ids)}")
    lines += [
        "",
        "## Severity",
        "",
        "The severity above is the default. A finding may carry another one: some checks "
        "weigh the workload tier (`tier:` in the config, or a resource's own `qgov:tier` "
        "tag) or an advisory's own rating, and each finding in JSON, SARIF and the text "
        "report shows the severity it was given.",
        "",
        "## Accepting a finding",
        "",
        # Described, not quoted: a literal directive here would be one in this file too.
        f"Inline: a `qgov:ignore` comment naming {rule.id}, with a `reason` and an `until` "
        "date (see the README). For findings present on adoption day: `qgov baseline create`, "
        "then `qgov baseline update` as accepted findings are added. Or switch the rule off: "
        f"`disable_rules: [{rule.id}]` in `.qgov.yaml`, or `--skip-rule {rule.id}`.",
        "",
        _FOOTER,
        "",
    ]
    return "\n".join(lines)


def index_page(catalog: Catalog) -> str:
    lines = [
        "# qgov rules",
        "",
        "qgov is a compliance-as-code scanner for quantum cloud workloads: it checks code, "
        "notebooks, infrastructure as code, CI workflows and dependency manifests against a "
        "control catalog mapped to ISO/IEC 27001:2022, SOC 2, HIPAA and GDPR. Each rule "
        "below has a page: what it finds, how to fix it, and the controls and requirements "
        "it evidences.",
        "",
        "| rule | title | default severity | controls |",
        "|---|---|---|---|",
    ]
    lines.extend(
        f"| [{rule.id}]({rule.id}.md) | {rule.title.replace('|', '/')} | "
        f"{catalog.rule_severity(rule).value} | {', '.join(rule.controls)} |"
        for rule in sorted(catalog.rules.values(), key=lambda r: r.id)
    )
    lines += ["", _FOOTER, ""]
    return "\n".join(lines)


def pages(catalog: Catalog) -> dict[str, str]:
    """File name -> content for every page of the shipped catalog."""
    rendered = {f"{rule.id}.md": rule_page(rule, catalog) for rule in catalog.rules.values()}
    rendered["README.md"] = index_page(catalog)
    return rendered


def stale_pages(folder: Path, wanted: dict[str, str]) -> list[str]:
    """Pages that are missing, differ, or should not be there."""
    present = {p.name for p in folder.glob("*.md")} if folder.is_dir() else set()
    stale = [
        name for name, text in wanted.items()
        if name not in present or (folder / name).read_text(encoding="utf-8") != text
    ]
    return sorted(stale + sorted(present - set(wanted)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scanner.reports.rule_docs")
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/rules/ is stale")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[2] / "docs" / "rules"
    )
    args = parser.parse_args(argv)
    wanted = pages(load_catalog())
    stale = stale_pages(args.out, wanted)
    if args.check:
        for name in stale:
            print(f"{args.out / name}: out of date", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name in stale:
        target = args.out / name
        if name in wanted:
            target.write_text(wanted[name], encoding="utf-8")
        else:
            target.unlink()
    print(f"{len(stale)} page(s) written or removed in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
