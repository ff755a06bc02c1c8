"""Secrets in git history: every blob any commit added, read once, the way gitleaks does.

A credential deleted from the tree is still in every clone: ``qgov scan --history [RANGE]``
walks the commits (all refs, or RANGE, oldest first), lists the blobs each one added or
changed (``git diff-tree --stdin -r --raw --root -c``: merges contribute what differs from
every parent), and reads each blob once (``git cat-file --batch-command``) — the first
commit that holds it names it: its path then, the commit and its author date. Only git's
plumbing runs; nothing is checked out and nothing from the repository is executed.

What runs on a blob: the secrets and notebooks detectors, keeping the findings whose rule
belongs to the secrets domain (credentials in files, in notebook sources and in stored
notebook outputs; personal data and the other notebook checks concern the current tree).
Each finding carries ``history`` (commit, author date, whether the blob is still in HEAD at
that path) and a remediation that starts with rotating the credential, then rewriting
history. A fingerprint is built like a tree finding's (rule, path, content), so a baselined
credential stays baselined here, and one finding is kept per fingerprint: the earliest.

Bounds: blobs over ``max_file_size`` and binary blobs are skipped (counted in a notice);
the whole scan stops after ``history_timeout`` seconds with a notice naming how far it got;
``exclude:`` and ``.qgovignore`` apply to the paths (``.gitignore`` does not: these files
were committed). Results are kept in the result cache by blob id, so a second history scan
reads only the blobs it has not seen.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import IO

from scanner.cache import ResultCache, detection_key
from scanner.cache_entry import Result
from scanner.catalog import Catalog
from scanner.classify import classify
from scanner.config import Settings
from scanner.detection import Outcome
from scanner.detectors.registry import DetectorOptions
from scanner.discover import BINARY_EXTENSIONS, Ignores, WalkResult
from scanner.findings import FindingBuilder
from scanner.fs import decode, is_binary
from scanner.model import (
    Domain,
    Finding,
    HistoryRef,
    Issue,
    ScanError,
    ScanResult,
    printable,
)
from scanner.pipeline import ScanRun
from scanner.repo import Git, GitError, RepoRoot
from scanner.source import SourceFile
from scanner.suppress.baseline import Baseline, apply_baseline
from scanner.suppress.inline import apply_inline
from scanner.targets import within
from scanner.workers import Budget, WorkerPool

DETECTORS = ("secrets", "notebooks")
# Blobs analysed per round of the worker pool (and between two looks at the clock).
BATCH_BLOBS = 1000
_ZERO = frozenset({"0" * 40, "0" * 64})
_REGULAR_MODES = frozenset({"100644", "100755"})
REMEDIATION = (
    "Rotate the credential now: it stays readable in every clone and fork even after the "
    "file changed. Then remove it from history (git filter-repo --replace-text, or BFG), "
    "force-push every branch and tag, and have collaborators re-clone. "
)


@dataclass(frozen=True)
class _Commit:
    sha: str
    author_date: str
    order: int


@dataclass(frozen=True)
class _BlobRef:
    sha: str
    path: str
    commit: _Commit


@dataclass
class _Tally:
    commits_seen: int = 0
    blobs: int = 0
    too_large: int = 0
    binary: int = 0
    stopped: bool = False  # the time cap ended the walk
    stopped_at: _Commit | None = None
    errors: list[ScanError] = field(default_factory=list)


def run_history(
    repo: RepoRoot,
    settings: Settings,
    catalog: Catalog,
    revisions: str | None,
    *,
    baseline: Baseline | frozenset[str] = frozenset(),
    progress: object = None,
    cache: ResultCache | None = None,
    today: dt.date | None = None,
    timeout: float | None = None,
    scopes: Sequence[str] = ("",),
) -> ScanRun:
    """Secrets in every blob of ``revisions`` (a ref or range; None: every ref) whose path
    lies under one of ``scopes`` (root-relative folders or files; "" is all). Raises
    ``GitError`` for a folder that is not a git repository or an unknown ref."""
    del progress  # the number of blobs is not known in advance
    started = time.perf_counter()
    deadline = started + (timeout if timeout is not None else settings.history_timeout)
    today = today or dt.date.today()
    git = Git(repo)
    commits = _commits(git, revisions)
    in_head = _head_blobs(git)
    ignores = Ignores(repo.path, WalkResult(), exclude=settings.exclude,
                      use_gitignore=settings.use_gitignore)
    options = DetectorOptions(regulated_paths=(), tier=settings.tier, today=today, only=DETECTORS)
    ruleset = detection_key(options)
    budget = Budget(settings.file_timeout, settings.file_memory)
    tally = _Tally()
    found: list[tuple[_BlobRef, Outcome]] = []
    batch: list[_BlobRef] = []
    size = settings.jobs or os.cpu_count() or 1
    # One pool for the whole walk (forked before the reader threads start).
    with WorkerPool(size, options, budget) as pool, _BlobReader(git) as reader:
        for blob in _added_blobs(git, commits, ignores, deadline, tally, scopes):
            batch.append(blob)
            if len(batch) >= BATCH_BLOBS:
                found += _analyse(batch, reader, pool, settings, cache, ruleset, tally)
                batch = []
            if time.perf_counter() > deadline:
                tally.stopped, tally.stopped_at = True, blob.commit
                break
        if batch:
            found += _analyse(batch, reader, pool, settings, cache, ruleset, tally)
    findings, errors = _findings(found, catalog, settings, in_head, today)
    notices = _notices(tally, len(commits), timeout or settings.history_timeout)
    if not commits:
        notices.append("no commits to scan: the repository (or the range) holds none")
    if isinstance(baseline, frozenset):
        baseline = Baseline.of(baseline)
    if baseline:
        findings, expired = apply_baseline(findings, baseline, today)
        notices.extend(expired)
    if cache is not None:
        notices.extend(cache.notices())
        cache.maybe_prune()
    findings.sort(key=lambda f: (-f.severity.rank, f.path, f.line or 0, f.rule_id))
    result = ScanResult(
        roots=(str(repo.path),),
        findings=tuple(findings),
        errors=tuple(sorted([*tally.errors, *errors], key=lambda e: (e.path, e.reason))),
        files_scanned=tally.blobs,
        duration_seconds=round(time.perf_counter() - started, 3),
        notices=tuple(dict.fromkeys(notices)),
    )
    return ScanRun(result=result, timings={"history": time.perf_counter() - started})


# --- git ---------------------------------------------------------------------------------------


def _commits(git: Git, revisions: str | None) -> list[_Commit]:
    """Commits oldest first (parents before children), with their author dates."""
    if revisions is not None and (not revisions or revisions.startswith("-")):
        raise GitError(f"not a usable git revision range: {revisions!r}")
    selection = ["--all"] if revisions is None else ["--end-of-options", revisions]
    try:
        out = git.run("rev-list", "--reverse", "--topo-order", "--no-commit-header",
                       "--format=%H %aI", *selection)
    except GitError as exc:
        if revisions is None:
            raise
        raise GitError(f"unknown git ref or range {revisions!r} (no such commit here)") from exc
    commits: list[_Commit] = []
    for line in out.decode("ascii", "replace").splitlines():
        sha, _space, date = line.partition(" ")
        if sha:
            commits.append(_Commit(sha, date, len(commits)))
    return commits


def _head_blobs(git: Git) -> set[tuple[str, str]]:
    """(path, blob) pairs HEAD holds: a historical blob at the same path is still there."""
    if git.head() is None:
        return set()
    out = git.run("ls-tree", "-r", "-z", "--full-tree", "HEAD")
    pairs = set()
    for record in out.split(b"\x00"):
        meta, _tab, raw_path = record.partition(b"\t")
        parts = meta.decode("ascii", "replace").split(" ")
        path = git.to_root(raw_path)
        if len(parts) == 3 and parts[1] == "blob" and path is not None:
            pairs.add((printable(path), parts[2]))
    return pairs


def _added_blobs(
    git: Git,
    commits: Sequence[_Commit],
    ignores: Ignores,
    deadline: float,
    tally: _Tally,
    scopes: Sequence[str],
) -> Iterator[_BlobRef]:
    """Each blob the commits add, once, at the first commit that adds it."""
    if not commits:
        return
    by_sha = {c.sha: c for c in commits}
    process = git.popen("diff-tree", "--stdin", "-r", "-z", "--raw", "--root", "--no-renames",
                        "-c", "--no-ext-diff", "--no-textconv")
    assert process.stdin is not None and process.stdout is not None
    writer = threading.Thread(target=_feed, args=(process.stdin, commits), daemon=True)
    writer.start()
    seen: set[str] = set()
    current: _Commit | None = None
    try:
        tokens = _tokens(process.stdout)
        for token in tokens:
            if time.perf_counter() > deadline:
                tally.stopped, tally.stopped_at = True, current
                return
            if not token.startswith(b":"):
                current = by_sha.get(token.decode("ascii", "replace"))
                if current is not None:
                    tally.commits_seen = max(tally.commits_seen, current.order + 1)
                continue
            raw_path = next(tokens, b"")
            blob = _new_blob(token.decode("ascii", "replace"))
            if blob is None or current is None or blob in seen:
                continue
            seen.add(blob)
            path = git.to_root(raw_path)
            if path is None or not within([path], scopes) or _skipped(path, ignores):
                continue
            yield _BlobRef(blob, printable(path), current)
        tally.commits_seen = len(commits)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()
        writer.join(5)


def _feed(stdin: IO[bytes], commits: Sequence[_Commit]) -> None:
    try:
        for commit in commits:
            stdin.write(f"{commit.sha}\n".encode())
        stdin.close()
    except (BrokenPipeError, OSError, ValueError):
        pass  # diff-tree was stopped (time cap)


def _tokens(stream: IO[bytes]) -> Iterator[bytes]:
    """NUL-separated fields of a stream, read as they come."""
    pending = b""
    fd = stream.fileno()
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        pending += chunk
        *complete, pending = pending.split(b"\x00")
        yield from complete
    if pending:
        yield pending


def _new_blob(meta: str) -> str | None:
    """The blob a ``--raw`` line (or a ``-c`` combined one) leaves at its path, or None for
    deletions, symlinks and submodules."""
    colons = len(meta) - len(meta.lstrip(":"))
    parts = meta[colons:].split(" ")
    if len(parts) != 2 * (colons + 1) + 1:
        return None
    mode, blob, status = parts[colons], parts[2 * colons + 1], parts[-1]
    if "D" in status or blob in _ZERO or mode not in _REGULAR_MODES:
        return None
    return blob


def _skipped(path: str, ignores: Ignores) -> bool:
    return Path(path).suffix.lower() in BINARY_EXTENSIONS or ignores.named_excluded(path)


class _BlobReader:
    """One ``git cat-file --batch-command`` for the whole scan: ``info`` first, so a huge
    blob is never read."""

    def __init__(self, git: Git) -> None:
        self.git = git
        self.process: Popen[bytes] | None = None

    def __enter__(self) -> _BlobReader:
        self.process = self.git.popen("cat-file", "--batch-command")
        return self

    def __exit__(self, *_exc: object) -> None:
        process = self.process
        if process is None:
            return
        try:
            if process.stdin:
                process.stdin.close()
        except OSError:
            pass
        try:
            process.wait(5)
        except Exception:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()

    def _ask(self, command: str) -> bytes:
        process = self.process
        assert process is not None and process.stdin and process.stdout
        process.stdin.write(command.encode() + b"\n")
        process.stdin.flush()
        return process.stdout.readline()

    def size(self, sha: str) -> int | None:
        header = self._ask(f"info {sha}").decode("ascii", "replace").split()
        return int(header[2]) if len(header) == 3 and header[1] == "blob" else None

    def read(self, sha: str) -> bytes | None:
        process = self.process
        assert process is not None and process.stdout
        header = self._ask(f"contents {sha}").decode("ascii", "replace").split()
        if len(header) != 3:
            return None
        size = int(header[2])
        data = process.stdout.read(size)
        process.stdout.read(1)  # the newline after the content
        return data


# --- detection -------------------------------------------------------------------------------


def _blob_key(ruleset: str, blob: _BlobRef) -> str:
    text = json.dumps([ruleset, "git-blob", blob.path, blob.sha])
    return hashlib.sha256(text.encode()).hexdigest()


def _analyse(
    batch: Sequence[_BlobRef],
    reader: _BlobReader,
    pool: WorkerPool,
    settings: Settings,
    cache: ResultCache | None,
    ruleset: str,
    tally: _Tally,
) -> list[tuple[_BlobRef, Outcome]]:
    found: list[tuple[_BlobRef, Outcome]] = []
    units: list[list[SourceFile]] = []
    refs: dict[int, _BlobRef] = {}
    for blob in batch:
        hit = cache.get(_blob_key(ruleset, blob), [blob.path]) if cache is not None else None
        if hit is not None:
            tally.blobs += 1
            found.append((blob, Outcome(issues=hit.issues, errors=hit.errors,
                                        directives=hit.directives)))
            continue
        size = reader.size(blob.sha)
        if size is None:
            continue
        if size > settings.max_file_size:
            tally.too_large += 1
            continue
        data = reader.read(blob.sha)
        if data is None or is_binary(data):
            tally.binary += 1
            continue
        text = decode(data)
        source = SourceFile(blob.path, Path(blob.path), classify(blob.path, text), text)
        source.on_disk = False
        unit = [source]
        refs[id(unit)] = blob
        units.append(unit)
        tally.blobs += 1
    if not units:
        return found

    def keep(unit: Sequence[SourceFile], part: Outcome) -> None:
        blob = refs[id(unit)]
        found.append((blob, part))
        if cache is not None and not any(e.reason == "budget-exceeded" for e in part.errors):
            cache.put(_blob_key(ruleset, blob), Result(
                issues=part.issues, errors=part.errors, directives=part.directives))

    merged = pool.run(units, None, on_unit=keep)
    if cache is not None:
        cache.flush()
    # Units stopped by their budget come back only as errors in the merged outcome.
    tally.errors.extend(e for e in merged.errors if e.reason == "budget-exceeded")
    return found


def _findings(
    found: Sequence[tuple[_BlobRef, Outcome]],
    catalog: Catalog,
    settings: Settings,
    in_head: set[tuple[str, str]],
    today: dt.date,
) -> tuple[list[Finding], list[ScanError]]:
    """One finding per fingerprint, at the earliest commit holding it."""
    builder = FindingBuilder(catalog)
    disabled = set(settings.disable_rules)
    earliest: dict[str, tuple[int, Finding]] = {}
    for blob, outcome in found:
        issues = [i for i in outcome.issues if _is_secret_rule(i, catalog)]
        built = [f for f in builder.build_all(issues) if f.rule_id not in disabled]
        marked, _problems = apply_inline(built, outcome.directives, today)  # directive
        # problems belong to the tree scan, where they can still be fixed
        for finding in marked:
            finding = _in_history(finding, blob, (blob.path, blob.sha) in in_head)
            known = earliest.get(finding.fingerprint)
            if known is None or blob.commit.order < known[0]:
                earliest[finding.fingerprint] = (blob.commit.order, finding)
    # An old file that no longer parses is history, not a problem to fix; a detector that
    # failed on a blob is worth knowing.
    errors = [e for _blob, outcome in found for e in outcome.errors if e.reason == "detector-error"]
    return [finding for _order, finding in earliest.values()], [*errors, *builder.errors()]


def _is_secret_rule(issue: Issue, catalog: Catalog) -> bool:
    rule = catalog.rule(issue.rule_id)
    return rule is not None and catalog.rule_domain(rule) is Domain.SECRETS


def _in_history(finding: Finding, blob: _BlobRef, in_tree: bool) -> Finding:
    where = "still in the tree" if in_tree else "no longer in the tree, but in every clone"
    short = blob.commit.sha[:12]
    return finding.model_copy(update={
        "message": f"{finding.message} (git history: added in commit {short}, "
                   f"{blob.commit.author_date[:10]}; {where})",
        "remediation": REMEDIATION + (finding.remediation or ""),
        "history": HistoryRef(commit=blob.commit.sha, author_date=blob.commit.author_date,
                              in_tree=in_tree),
    })


def _notices(tally: _Tally, commits: int, timeout: float) -> list[str]:
    notices = []
    if tally.stopped:
        where = ""
        if tally.stopped_at is not None:
            where = (f", up to commit {tally.stopped_at.sha[:12]} "
                     f"({tally.stopped_at.author_date[:10]})")
        notices.append(
            f"history scan stopped after {timeout:g} s (history_timeout): {tally.commits_seen} "
            f"of {commits} commits examined{where}; raise history_timeout or scan a range"
        )
    if tally.too_large:
        notices.append(
            f"history: {tally.too_large} blob(s) larger than max_file_size were skipped"
        )
    if tally.binary:
        notices.append(f"history: {tally.binary} binary blob(s) were skipped")
    return notices
