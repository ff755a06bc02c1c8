"""What the inventory checks take from the scanned tree itself: a governance policy when
none was named, vendor profiles that say which providers they assess, and how a policy file
outside the tree is shown."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from pydantic import ValidationError

from scanner.formats.errors import ParseError
from scanner.formats.yaml import DEFAULT_MAX_DOCUMENT_BYTES
from scanner.inventory.table import canonical_id
from scanner.model import FileKind, printable
from scanner.source import SourceFile

if TYPE_CHECKING:
    from scanner.governed.policy import OrgPolicy

# Vendor profiles are small; a tree with more than this many is not read for providers.
MAX_TREE_PROFILES = 200


def found_policy(sources: Sequence[SourceFile]) -> tuple[SourceFile, OrgPolicy] | int:
    """The one governance policy in the scanned tree that validates, else how many do."""
    valid: list[tuple[SourceFile, OrgPolicy]] = []
    for source in sources:
        if source.kind is not FileKind.GOVERNANCE_POLICY:
            continue
        # Loaded on the first policy file: the models are heavy and most trees have none.
        from scanner.governed.errors import FieldProblem
        from scanner.governed.policy import OrgPolicy

        if len(source.text) > DEFAULT_MAX_DOCUMENT_BYTES:
            continue
        try:
            documents = source.yaml_documents
            if len(documents) != 1 or not isinstance(documents[0], dict):
                continue
            valid.append((source, OrgPolicy.model_validate(documents[0])))
        except (ParseError, ValidationError, FieldProblem, RecursionError, ValueError):
            continue  # not a policy the governed job would accept: not used for the inventory
    return valid[0] if len(valid) == 1 else len(valid)


def tree_profiles(sources: Sequence[SourceFile]) -> dict[str, str]:
    """Provider id -> the first vendor profile in the tree that lists it in
    ``vendor.providers`` (and validates)."""
    found: dict[str, str] = {}
    profiles = [s for s in sources if s.kind is FileKind.VENDOR_PROFILE]
    for source in sorted(profiles, key=lambda s: s.path)[:MAX_TREE_PROFILES]:
        from scanner.vendors.profile_loader import ProfileError, parse_profile

        try:
            loaded = parse_profile(source.text, source.path)
        except (ProfileError, RecursionError):
            continue
        for name in loaded.profile.vendor.providers or ():
            provider = canonical_id(name)
            if provider is not None:
                found.setdefault(provider, source.path)
    return found


def policy_label(path: Path, roots: Sequence[Path]) -> str:
    """A policy file as finding paths are written: relative to the first scanned root
    (``../policy/org-policy.yaml``), absolute when that is no shorter."""
    real = os.path.realpath(path)
    first = Path(roots[0]).absolute() if roots else Path.cwd()
    base = first if first.is_dir() else first.parent
    try:
        relative = os.path.relpath(real, os.path.realpath(base))
    except ValueError:  # another drive
        relative = real
    shown = relative if len(relative) < len(real) else real
    return printable(PurePosixPath(Path(shown).as_posix()).as_posix())
