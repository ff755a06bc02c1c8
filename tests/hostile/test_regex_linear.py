"""Every regular expression the package compiles runs in linear time.

A hostile pull request can put a 100,000-character line in front of a CI gate; a pattern
that backtracks turns it into minutes. Each module-level pattern (and each pattern of a
declared list such as the secret patterns) is fed lines built from its own vocabulary at
two lengths; the longer one may cost about four times the shorter, never sixteen.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import time

import pytest

import scanner

SHORT, LONG = 2_000, 8_000
# Longer than this on the long line and worse than 6x the short one: not linear.
MIN_SECONDS, MAX_RATIO = 0.02, 6.0
_EXTRA_UNITS = ("a ", "a.", "a=", "a:", "a@", "a@a.", "1-", "1 ", "://", "${", "{{", "curl ",
                "curl |", " #", "# ", "--", ";", "ab", '"a', "'a", "a'", "=a", ": a", "x\\",
                "\n", " \n", "\t", "eyJ_", "token_", "a-1")


def _patterns() -> dict[str, re.Pattern[str]]:
    found: dict[str, re.Pattern[str]] = {}
    for info in pkgutil.walk_packages(scanner.__path__, "scanner."):
        if info.name.endswith("__main__"):
            continue  # running it is the command line
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                found[f"{info.name}.{name}"] = value
            elif isinstance(value, list | tuple):
                for index, item in enumerate(value):
                    regex = getattr(item, "regex", None)
                    if isinstance(regex, re.Pattern):
                        found[f"{info.name}.{name}[{index}]"] = regex
    return found


PATTERNS = _patterns()


def _units(pattern: re.Pattern[str]) -> list[str]:
    source = pattern.pattern
    words = sorted(set(re.findall(r"[A-Za-z_]{2,}", source)))[:40]
    chars = sorted({c for c in source if c.isprintable()} | set(" \t=:\"'#/-_.|;&@$%{}[]()<>,"))
    return chars + [w + s for w in words for s in ("", " ", "=", "_", ".", ":", "-")] + list(
        _EXTRA_UNITS
    )


def _seconds(pattern: re.Pattern[str], text: str) -> float:
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        for _match in pattern.finditer(text):
            pass
        best = min(best, time.perf_counter() - started)
    return best


def test_patterns_were_collected() -> None:
    assert len(PATTERNS) > 80
    assert "scanner.detectors.secret_patterns.GENERIC_ASSIGNMENT" in PATTERNS


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_is_linear(name: str) -> None:
    pattern = PATTERNS[name]
    slow = []
    for unit in _units(pattern):
        short = _seconds(pattern, unit * (SHORT // len(unit)))
        if short > 0.5:  # already hopeless: no need to try the long line
            slow.append((unit, short, None))
            break
        long = _seconds(pattern, unit * (LONG // len(unit)))
        if long > MIN_SECONDS and long > MAX_RATIO * short:
            slow.append((unit, short, long))
    assert slow == [], f"{name} is superlinear on {slow[:3]}"
