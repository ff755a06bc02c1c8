"""What a scan checked: every detector, engine and parent-side stage with the rules it can
report and how many files it examined.

The pipeline calls ``scan_coverage`` once, after detection, with the per-detector file counts
the workers returned and what each engine said about itself. A rule *ran* when a check that
can report it examined at least one file and the rule is not disabled; a control whose rules
did not run cannot pass (``scanner.status.controls``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from scanner.config import EngineSwitches, Settings
from scanner.correlate import CORRELATE_RULES
from scanner.detectors.custom import PatternRuleDetector
from scanner.detectors.registry import DetectorOptions, build_detectors
from scanner.engines.interface import EngineOutput
from scanner.engines.registry import build_engines
from scanner.inventory.checks import INVENTORY_RULES
from scanner.model import CheckRun, Coverage, FileKind
from scanner.suppress.inline import SUPPRESSION_RULES

# Detectors whose issues the cross-file credential check compares.
_SECRET_READERS = ("secrets", "notebooks")


def scan_coverage(
    settings: Settings,
    options: DetectorOptions,
    examined: Mapping[str, Mapping[str, int]],
    engines: EngineOutput,
    files: int,
    *,
    inventory_checked: bool,
) -> Coverage:
    """``examined``: files per detector name and file kind (``Outcome.examined``);
    ``files``: every file the scan read; ``inventory_checked``: a policy was there to hold
    the inventory against."""

    def count(name: str, kinds: Iterable[str] | None = None) -> int:
        per_kind = examined.get(name, {})
        return sum(n for kind, n in per_kind.items() if kinds is None or kind in kinds)

    checks = [
        CheckRun(
            name=detector.name,
            kind="detector",
            rules=tuple(sorted(detector.rules | detector.shared_rules)),
            file_kinds=_kinds(getattr(detector, "examined_kinds", detector.kinds)),
            files=count(detector.name),
        )
        for detector in build_detectors(options)
        if detector.name != PatternRuleDetector.name
    ]
    # A custom regex rule checked something only if a file of its own kinds was read.
    for rule in options.custom_rules:
        kinds = tuple(sorted(kind.value for kind in rule.kinds))
        checks.append(CheckRun(
            name=f"{PatternRuleDetector.name}:{rule.id}",
            kind="detector",
            rules=(rule.id,),
            file_kinds=kinds or ("any",),
            files=count(PatternRuleDetector.name, kinds or None),
        ))
    # Every shipped engine, so one that is turned off is listed with the reason.
    every_engine = settings.model_copy(update={"engines": EngineSwitches()})
    for engine in build_engines(every_engine, Path(".")):
        switched_on = bool(getattr(settings.engines, _switch(engine.name), True))
        skipped = engines.not_run.get(engine.name)
        if not switched_on:
            skipped = f"{engine.name} is turned off (engines: in the config, or --no-engines)"
        checks.append(CheckRun(
            name=engine.name,
            kind="engine",
            rules=tuple(sorted(engine.rules)),
            file_kinds=_kinds(engine.kinds),
            files=0 if skipped else engines.ran.get(engine.name, 0),
            skipped=skipped,
        ))
    checks += [
        CheckRun(name="suppression", kind="stage", rules=tuple(sorted(SUPPRESSION_RULES)),
                 files=files),
        CheckRun(name="correlate", kind="stage", rules=tuple(sorted(CORRELATE_RULES)),
                 files=sum(count(name) for name in _SECRET_READERS)),
        CheckRun(
            name="inventory",
            kind="stage",
            rules=tuple(sorted(INVENTORY_RULES)),
            files=files if inventory_checked else 0,
            skipped=None if inventory_checked
            else "no governance policy to hold the provider inventory against (--policy)",
        ),
    ]
    return Coverage(
        tier=settings.tier,
        checks=tuple(checks),
        disabled_rules=tuple(sorted(settings.disable_rules)),
        vuln_db=engines.vuln_db,
    )


def _switch(engine_name: str) -> str:
    """The ``engines:`` key that turns an engine on or off."""
    return {"bandit": "bandit", "semgrep": "semgrep"}.get(engine_name, "vulnerabilities")


def _kinds(kinds: frozenset[FileKind]) -> tuple[str, ...]:
    # A detector that reads (almost) every kind is described by what it skips instead.
    if len(kinds) > len(FileKind) // 2:
        return ("any",)
    return tuple(sorted(kind.value for kind in kinds))
