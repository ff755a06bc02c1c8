"""`qgov controls list`, `qgov controls show ID` and `qgov controls status PATH…`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from scanner.catalog import Catalog, CatalogError, Control, load_catalog
from scanner.cli.exits import EXIT_ERROR, EXIT_OK
from scanner.cli.scan_cmds import (
    error,
    prepare,
    status_inputs,
)
from scanner.cli.scan_cmds import run as run_scan
from scanner.config import ConfigError, load_config_file
from scanner.status.controls import compute_status
from scanner.status.render import status_csv, status_json, status_text
from scanner.suppress.baseline import BaselineError, load_baseline


def configured_catalog(config: str | None) -> Catalog:
    """The built-in catalog plus the custom folders ``--config FILE`` names; raises
    CatalogError or ConfigError."""
    extra = []
    if config:
        settings = load_config_file(Path(config))
        extra = [settings.resolve(p) for p in settings.custom_catalog]
    return load_catalog(extra)


def _catalog(args: argparse.Namespace) -> Catalog | None:
    try:
        return configured_catalog(args.config)
    except (CatalogError, ConfigError) as exc:
        print(f"qgov: error: {exc}", file=sys.stderr)
        return None


def control_dict(catalog: Catalog, control: Control) -> dict[str, Any]:
    data = control.model_dump(mode="json")
    data["frameworks"] = catalog.frameworks_for([control.id])
    data["rules"] = sorted(r.id for r in catalog.rules.values() if control.id in r.controls)
    return data


def cmd_controls_list(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    if catalog is None:
        return EXIT_ERROR
    selected = [
        control
        for control in catalog.controls.values()
        if (args.domain is None or control.domain.value == args.domain)
        and (args.framework is None or catalog.frameworks_for([control.id]).get(args.framework))
    ]
    if args.format == "json":
        payload = {"controls": [control_dict(catalog, c) for c in selected]}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return EXIT_OK
    for control in selected:
        mapped = catalog.frameworks_for([control.id])
        if args.framework:
            tail = ", ".join(mapped.get(args.framework, []))
        else:
            tail = " ".join(sorted(mapped))
        print(
            f"{control.id:<8} {control.severity.value:<8} {control.domain.value:<13} "
            f"{control.title}  [{tail}]"
        )
    print(f"\n{len(selected)} of {len(catalog.controls)} controls", file=sys.stderr)
    return EXIT_OK


def cmd_controls_show(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    if catalog is None:
        return EXIT_ERROR
    control = catalog.controls.get(args.control_id.upper())
    if control is None:
        print(f"qgov: error: unknown control id {args.control_id}", file=sys.stderr)
        return EXIT_ERROR
    data = control_dict(catalog, control)
    if args.format == "json":
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return EXIT_OK
    print(f"{control.id}  {control.title}")
    print(f"domain: {control.domain.value}   default severity: {control.severity.value}")
    print(f"tiers: {', '.join(t.value for t in control.tiers)}")
    also = f" (also {', '.join(v.value for v in control.also_verified_by)})"
    print(f"verified by: {control.verification.value}{also if control.also_verified_by else ''}")
    if control.verification_note:
        print(f"  {control.verification_note}")
    print(f"\nObjective: {control.objective}\n\nWhy: {control.rationale}")
    print(f"\nHow to fix: {control.remediation}\n\nEvidence: {control.evidence}")
    if data["frameworks"]:
        print("\nFrameworks:")
        for key, ids in data["frameworks"].items():
            framework = catalog.frameworks[key]
            for requirement_id in ids:
                title = framework.requirement_title(requirement_id)
                print(f"  {key:<9} {requirement_id:<22} {title}")
    if data["rules"]:
        print(f"\nRules: {', '.join(data['rules'])}")
    return EXIT_OK


def cmd_controls_status(args: argparse.Namespace) -> int:
    prepared = prepare(args)
    if isinstance(prepared, str):
        return error(prepared)
    catalog = prepared.catalog
    if args.framework is not None and args.framework not in catalog.frameworks:
        known = ", ".join(sorted(catalog.frameworks))
        return error(f"unknown framework {args.framework} (known: {known})")
    baseline = None
    if prepared.settings.baseline:
        try:
            baseline = load_baseline(prepared.settings.resolve(prepared.settings.baseline))
        except BaselineError as exc:
            return error(str(exc))
    evidence = status_inputs(args, prepared)
    if isinstance(evidence, str):
        return error(evidence)
    result = run_scan(prepared, args, baseline).result
    status = compute_status(result, catalog, attestations=evidence.attestations,
                            selftest=evidence.selftest)
    if args.status_format == "json":
        sys.stdout.write(status_json(status, result.coverage, args.framework))
    elif args.status_format == "csv":
        sys.stdout.write(status_csv(status, args.framework))
    else:
        sys.stdout.write(status_text(status, args.framework))
    return EXIT_OK
