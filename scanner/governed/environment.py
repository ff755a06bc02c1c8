"""Capture of the software, code and platform a run used, for the execution record.

- :func:`capture`      Python, qiskit, Aer and numpy versions and the platform (as before)
- :func:`provenance`   what the seed's immutable execution record asks for on top:
  - the **code commit** of the job spec's folder when it is in a git work tree, read from
    the ``.git`` files (``HEAD``, loose refs, ``packed-refs``, ``gitdir:``/``commondir`` for
    linked work trees). Nothing is run in the scanned tree: ``git`` would read its config
    there, and a hostile repository's config can run programs. Uncommitted changes are not
    detected (that needs ``git status``); the circuit and dataset hashes cover the inputs.
  - the **container image digest**. Reliable only when the deployment says it:
    ``QGOV_IMAGE_DIGEST`` (``[repo@]sha256:<64 hex>``, e.g. set from the image reference the
    job was started with). Inside a container the registry digest is not visible; podman's
    ``/run/.containerenv`` gives the local image id, and ``/.dockerenv`` or a container
    cgroup only say "in a container" -- the record then says so, with no digest.
  - the **environment hash**: SHA-256 over the sorted ``name==version`` lines of every
    installed distribution (``importlib.metadata``), names normalised as PEP 503 does.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from scanner.fs import FileRefused, read_bytes

IMAGE_DIGEST_ENV = "QGOV_IMAGE_DIGEST"
ENVIRONMENT_HASH_METHOD = (
    "SHA-256 of the sorted 'name==version' lines (PEP 503 names, one per line, UTF-8) of "
    "importlib.metadata.distributions()"
)
_DIGEST = re.compile(r"(?:[A-Za-z0-9._/:-]{1,255}@)?sha256:[0-9a-f]{64}")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_REF = re.compile(r"refs/[A-Za-z0-9._/-]{1,200}")
_SMALL = 64 * 1024
_PACKED_REFS_MAX = 16 * 1024 * 1024
_MAX_LEVELS = 64


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def capture() -> dict[str, str | None]:
    return {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "qiskit": _version("qiskit"),
        "qiskit_aer": _version("qiskit-aer"),
        "numpy": _version("numpy"),
        "qgov": _version("qgov"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "byteorder": sys.byteorder,
    }


def provenance(spec_folder: Path) -> dict[str, Any]:
    return {
        "code": code_commit(spec_folder),
        "container": container_image(),
        "environment": environment_hash(),
    }


# -- the installed distributions ------------------------------------------------------------


@functools.cache
def distributions() -> tuple[str, ...]:
    """``name==version`` of every installed distribution, sorted (computed once a process)."""
    found = set()
    for dist in metadata.distributions():
        try:
            name = dist.metadata["Name"]
        except (KeyError, TypeError):  # a broken install without metadata
            continue
        if name:
            found.add(f"{re.sub(r'[-_.]+', '-', name).lower()}=={dist.version}")
    return tuple(sorted(found))


def environment_hash() -> dict[str, Any]:
    lines = distributions()
    digest = hashlib.sha256("".join(f"{line}\n" for line in lines).encode("utf-8"))
    return {
        "sha256": digest.hexdigest(),
        "distributions": len(lines),
        "method": ENVIRONMENT_HASH_METHOD,
    }


# -- the container image ------------------------------------------------------------------


def container_image() -> dict[str, Any]:
    declared = os.environ.get(IMAGE_DIGEST_ENV, "").strip()
    if declared:
        if _DIGEST.fullmatch(declared):
            return {"in_container": True, "image_digest": declared, "source": IMAGE_DIGEST_ENV}
        return {
            "in_container": True,
            "image_digest": None,
            "source": f"{IMAGE_DIGEST_ENV} is set but is not [repo@]sha256:<64 hex>; ignored",
        }
    podman = _small_text(Path("/run/.containerenv"))
    if podman is not None:
        match = re.search(r'^imageid="([0-9a-f]{64})"', podman, re.MULTILINE)
        if match:
            return {
                "in_container": True,
                "image_digest": f"sha256:{match.group(1)}",
                "source": "/run/.containerenv imageid (podman's local image id, not the "
                "registry digest)",
            }
        return _no_digest("/run/.containerenv")
    if Path("/.dockerenv").exists():
        return _no_digest("/.dockerenv")
    cgroup = _small_text(Path("/proc/self/cgroup")) or ""
    if re.search(r"docker|kubepods|containerd|libpod", cgroup):
        return _no_digest("/proc/self/cgroup")
    return {"in_container": False, "image_digest": None, "source": "no container detected"}


def _no_digest(hint: str) -> dict[str, Any]:
    return {
        "in_container": True,
        "image_digest": None,
        "source": f"container detected ({hint}); its image digest is not visible from inside "
        f"-- set {IMAGE_DIGEST_ENV}",
    }


# -- the code commit ------------------------------------------------------------------------


def code_commit(start: Path) -> dict[str, Any]:
    """The commit checked out in the git work tree holding ``start``, from git's files."""
    try:
        folder = start.resolve()
    except OSError:
        return _no_commit("the spec's folder cannot be resolved")
    for level, candidate in enumerate((folder, *folder.parents)):
        if level >= _MAX_LEVELS:
            break
        dot_git = candidate / ".git"
        try:
            if not os.path.lexists(dot_git):
                continue
        except OSError:
            continue
        git_dir = _git_dir(dot_git)
        if git_dir is None:
            return _no_commit(f"{dot_git} is not a readable git folder")
        return _head_commit(git_dir)
    return _no_commit("not in a git work tree")


def _no_commit(why: str) -> dict[str, Any]:
    return {"commit": None, "ref": None, "source": why}


def _git_dir(dot_git: Path) -> Path | None:
    if dot_git.is_dir() and not dot_git.is_symlink():
        return dot_git
    text = _small_text(dot_git)  # a linked work tree: "gitdir: <path>"
    if text is None or not text.startswith("gitdir:"):
        return None
    target = Path(text.removeprefix("gitdir:").strip())
    target = target if target.is_absolute() else dot_git.parent / target
    return target if target.is_dir() else None


def _head_commit(git_dir: Path) -> dict[str, Any]:
    head = _small_text(git_dir / "HEAD")
    if head is None:
        return _no_commit(f"{git_dir}/HEAD is not readable")
    head = head.strip()
    source = "git HEAD (read from the .git files; uncommitted changes not detected)"
    if _SHA.fullmatch(head):
        return {"commit": head, "ref": None, "source": source + "; detached"}
    ref = head.removeprefix("ref:").strip()
    if not head.startswith("ref:") or not _REF.fullmatch(ref) or ".." in ref:
        return _no_commit("HEAD names no usable ref")
    common = git_dir
    pointer = _small_text(git_dir / "commondir")
    if pointer is not None:
        linked = Path(pointer.strip())
        common = linked if linked.is_absolute() else git_dir / linked
    for where in dict.fromkeys((git_dir, common)):
        loose = _small_text(where / ref)
        if loose is not None and _SHA.fullmatch(loose.strip()):
            return {"commit": loose.strip(), "ref": ref, "source": source}
    packed = _packed_ref(common / "packed-refs", ref)
    if packed is not None:
        return {"commit": packed, "ref": ref, "source": source}
    return {"commit": None, "ref": ref, "source": f"{ref} has no commit yet (an empty repository)"}


def _packed_ref(path: Path, ref: str) -> str | None:
    try:
        text = read_bytes(path, max_bytes=_PACKED_REFS_MAX).decode("utf-8", "replace")
    except FileRefused:
        return None
    for line in text.splitlines():
        sha, _, name = line.partition(" ")
        if name == ref and _SHA.fullmatch(sha):
            return sha
    return None


def _small_text(path: Path) -> str | None:
    """A small regular file's text; never a link, a FIFO or a device (a hostile tree)."""
    try:
        return read_bytes(path, max_bytes=_SMALL).decode("utf-8", "replace")
    except FileRefused:
        return None
