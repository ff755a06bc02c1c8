"""Hostile inputs a pull request can put in front of a CI gate, built on demand.

Every case writes a small tree and says what a user must see when it is scanned: the scan
finishes within a few seconds, names the file as a scan error where it should, still finds
what it should, never prints a secret and never prints "internal error". Add a case for
every input that once stopped, stalled or fooled a scan.

    python -m tests.hostile.generator DIR      # write every case under DIR/<case>/
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Built at run time so no literal credential sits in the repository.
TOKEN = "Q7fK2mZp9LwR4tYb8NcV" + "1sXd6HjE3uAo0Gi5"  # 36 characters, high entropy
LONG = 100_000


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], None]
    # Paths (relative to the case root, as reports print them) that must be scan errors.
    errors: tuple[str, ...] = ()
    # Rule ids that must still be reported: the rest of the tree is scanned.
    finds: tuple[str, ...] = ()
    # The scan must stop with a clear configuration error (exit 2) instead.
    config_error: bool = False
    # Text that must not appear in any output.
    never_printed: tuple[str, ...] = ()


def _write(root: Path, rel: str | bytes, content: str | bytes) -> None:
    target = os.path.join(os.fsencode(root), rel if isinstance(rel, bytes) else os.fsencode(rel))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as handle:
        handle.write(content.encode("utf-8") if isinstance(content, str) else content)


def _leak(root: Path, rel: str = "src/leak.py") -> None:
    """A file the scan must still report, whatever else is in the tree."""
    _write(root, rel, f'IONQ_API_KEY = "{TOKEN}"\n')


def _bad_gitignore(root: Path) -> None:
    _write(root, ".gitignore", "build/\n[z-a]\nfoo\\\n*.log\n")
    _leak(root)


def _bad_qgovignore(root: Path) -> None:
    _write(root, ".qgovignore", "[z-a]\n\\\n")
    _leak(root)


def _config(body: str | bytes, name: str = ".qgov.yaml") -> Callable[[Path], None]:
    def build(root: Path) -> None:
        _write(root, name, body)
        _leak(root)

    return build


def _non_utf8_names(root: Path) -> None:
    _write(root, b"caf\xe9/notes\xff.py", f'IONQ_API_KEY = "{TOKEN}"\n'.encode())
    _write(root, b"ok/\xfe\xfe.txt", b"plain text\n")


def _control_char_names(root: Path) -> None:
    _write(root, "bell\x07/esc\x1b[31m.py", f'IONQ_API_KEY = "{TOKEN}"\n')
    _write(root, "rtl\u202egnp.py", f'IONQ_API_KEY = "{TOKEN}"\n')


def _fifo(root: Path) -> None:
    _leak(root)
    os.mkfifo(root / "pipe.txt")
    _write(root, "requirements.txt", "-r fifo-reqs.txt\nqiskit==1.2.0\n")
    os.mkfifo(root / "fifo-reqs.txt")


def _notebook_v3_heading(root: Path) -> None:
    notebook = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {},
        "worksheets": [{"cells": [{"cell_type": "heading", "level": 10**9, "source": "x"},
                                  {"cell_type": "code", "input": f'IONQ_API_KEY = "{TOKEN}"\n',
                                   "language": "python", "outputs": [], "metadata": {}}]}],
    }
    _write(root, "nb/heading.ipynb", json.dumps(notebook))


def _notebook(version: object) -> str:
    document: dict[str, object] = {
        "metadata": {},
        "cells": [{"cell_type": "code", "source": [f'IONQ_API_KEY = "{TOKEN}"\n'],
                   "metadata": {}, "outputs": []}],
    }
    if version is not None:
        document["nbformat"] = version
        document["nbformat_minor"] = 0
    return json.dumps(document)


def _notebook_versions(root: Path) -> None:
    for label, version in (("v1", 1), ("true", True), ("missing", None), ("text", "4")):
        _write(root, f"nb/{label}.ipynb", _notebook(version))
    _write(root, "nb/truncated.ipynb", _notebook(4)[:-30])


def _billion_laughs(key: str) -> str:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    lines.append(f"{key}:\n  script: *{previous}")
    return "\n".join(lines) + "\n"


def _yaml_bombs(root: Path) -> None:
    _write(root, ".gitlab-ci.yml", _billion_laughs("build"))
    _write(root, "k8s/bomb.yaml", "apiVersion: v1\nkind: ConfigMap\n" + _billion_laughs("data"))
    _write(root, "environment.yml", _billion_laughs("dependencies"))
    _leak(root)


def _requirements_long_lines(root: Path) -> None:
    _write(root, "requirements.txt", "qiskit==1.2.0 " + " " * LONG + "x\n" + "#" * LONG + "\n")
    _write(root, "requirements-dev.txt",
           "a" * LONG + ".whl\n" + "https://x/" + "a-1" * (LONG // 3) + ".zip\n")
    _write(root, "constraints.txt", " #" * (LONG // 2) + "\n" + "--hash=" * (LONG // 7) + "\n")
    _leak(root)


def _long_lines(root: Path) -> None:
    _write(root, "src/assign.py", "x_" * (LONG // 2) + "\n" + "token" * (LONG // 5) + "\n")
    _write(root, "src/under.py", "_" * LONG + " = 1\n" + "password_" * (LONG // 9) + "\n")
    _write(root, "src/directive.py", "#" + ";" * LONG + "\n" + "--" * (LONG // 2) + "\n")
    _write(root, "src/minified.js", "var a='x';" * (LONG // 10) + "\n")
    _write(root, "Dockerfile", "FROM python:3.12\nRUN " + "curl " * (LONG // 5) + "\n")
    _write(root, "config/app.env", "SECRET=" + "a=" * (LONG // 2) + "\n")
    _write(root, "notes.md", "postgres://" + "a:" * (LONG // 2) + "\n" + "a@" * (LONG // 2) + "\n")
    _write(root, "blank.yaml", "\n" * LONG + "Type: x\n")
    _leak(root)


def _notebook_long_output(root: Path) -> None:
    cell = {
        "cell_type": "code",
        "source": ["print(x)\n"],
        "metadata": {},
        "execution_count": 1,
        "outputs": [{"output_type": "stream", "name": "stdout",
                     "text": ["token_" * (LONG // 6) + "\n", "x_" * (LONG // 2)]}],
    }
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}
    _write(root, "nb/long.ipynb", json.dumps(notebook))
    _leak(root)


def _url_tokens(root: Path) -> None:
    _write(
        root,
        "requirements.txt",
        f"--extra-index-url https://pkgs.example.internal/simple#access_token={TOKEN}\n"
        f"--extra-index-url https://user:{TOKEN}%40pkgs.example.internal/simple\n"
        f"--extra-index-url https%3A%2F%2Fuser%3A{TOKEN}%40pkgs.example.internal%2Fsimple\n"
        "qiskit==1.2.0\n",
    )


def _deep_nesting(root: Path) -> None:
    depth = 50_000
    _write(root, "deep.json", "[" * depth + "]" * depth)
    _write(root, "k8s/deep.yaml", "apiVersion: v1\nkind: Pod\nspec: " + "[" * depth + "]" * depth)
    _write(root, "nb/deep.ipynb", '{"nbformat": 4, "cells": ' + "[" * depth + "]" * depth + "}")
    folder = root
    for _ in range(300):
        folder = folder / "d"
    _leak(folder, "leak.py")
    _leak(root)


def _binary_and_huge(root: Path) -> None:
    _write(root, "data.bin.txt", b"\x00\x01\x02" * 1000)
    _write(root, "huge.txt", b"a" * (11 * 1024 * 1024))
    _leak(root)


def _symlinks(root: Path) -> None:
    _leak(root)
    os.symlink("loop", root / "loop")
    os.symlink("/etc", root / "outside")


def _vendor_profiles(root: Path) -> None:
    _write(root, "vendors/typo.yaml", "qgov_vendor_profile: 1\nvendor:\n  name: X\nidentiy:\n"
           "  saml_sso: true\n")
    _write(root, "vendors/bad-date.yaml", "vendor:\n  name: X\n  profile_date: 2026-02-30\n")
    _write(root, "vendors/bomb.yaml", "qgov_vendor_profile: 1\n" + _billion_laughs("vendor"))
    _write(root, "vendors/binary.yaml", b"vendor:\n  name: X\n\x00\x01\x02")
    _write(root, "vendors/token-in-notes.yaml", f"vendor:\n  name: X\n  notes: api_token={TOKEN}\n"
           "identity:\n  saml_sso: false\n  oidc_sso: false\n")
    os.mkfifo(root / "vendors" / "pipe.yaml")
    _leak(root)


def _odd_arns(root: Path) -> None:
    arn = "arn:aws:braket:us-east-1::device/qpu/ionq/"
    _write(root, "config/devices.yaml",
           "devices: " + "arn:aws:braket:" * (LONG // 15) + "\n"
           + "device: " + arn + "A" * LONG + "\n"
           + "odd: arn:aws:braket:" + "-" * LONG + "::device/qpu/x/y\n"
           + "many: " + (arn + "Aria-1 ") * (LONG // 50) + "\n")
    _write(root, "src/devices.py",
           "from braket.aws import AwsDevice\n"
           f'DEVICES = ["{arn}" + "a" * 10, "' + "arn:aws:braket::" * (LONG // 16) + '"]\n')
    _leak(root)


def _long_import_lines(root: Path) -> None:
    modules = ", ".join(f"m{i}" for i in range(LONG // 6))
    _write(root, "src/wide.py", f"import {modules}, qiskit_ibm_runtime\n")
    _write(root, "src/dotted.py", "import " + "a." * (LONG // 2) + "braket\n"
           + "from " + "x" * LONG + " import y\n")
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": ["%pip install " + "amazon-braket-sdk " * (LONG // 18) + "\n",
                       "import " + "b, " * (LONG // 3) + "qiskit_ionq\n"]}
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}
    _write(root, "nb/wide.ipynb", json.dumps(notebook))
    _leak(root)


def _notebook_many_imports(root: Path) -> None:
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": [f"import qiskit_ibm_runtime as q{i}\n", f"from dwave.system import S{i}\n",
                    f'd{i} = "arn:aws:braket:us-west-1::device/qpu/rigetti/Ankaa-{i}"\n']}
        for i in range(3000)
    ]
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    _write(root, "nb/imports.ipynb", json.dumps(notebook))
    _leak(root)


CASES: tuple[Case, ...] = (
    Case("bad-gitignore", _bad_gitignore, errors=(".gitignore",), finds=("QG-SEC-008",)),
    Case("bad-qgovignore", _bad_qgovignore, errors=(".qgovignore",), finds=("QG-SEC-008",)),
    Case("config-bad-exclude", _config("exclude: ['[z-a]']\n"), config_error=True),
    Case("config-bad-regulated-paths", _config("regulated_paths: ['**/[z-a]']\n"),
         config_error=True),
    Case("config-not-utf8", _config(b"fail_on: high\nexclude: ['caf\xe9']\n"), config_error=True),
    Case("pyproject-qgov-string", _config('[tool]\nqgov = "strict"\n', "pyproject.toml"),
         config_error=True),
    Case("pyproject-qgov-int", _config("[tool]\nqgov = 5\n", "pyproject.toml"),
         config_error=True),
    Case("pyproject-tool-int", _config("tool = 5\n", "pyproject.toml"), finds=("QG-SEC-008",)),
    Case("non-utf8-names", _non_utf8_names, finds=("QG-SEC-008",), never_printed=(TOKEN,)),
    Case("control-char-names", _control_char_names, finds=("QG-SEC-008",),
         never_printed=("\x1b[31m", "\u202e")),
    Case("fifo", _fifo, errors=("pipe.txt", "fifo-reqs.txt"), finds=("QG-SEC-008",)),
    Case("notebook-v3-heading", _notebook_v3_heading, finds=("QG-SEC-008",)),
    Case("notebook-versions", _notebook_versions,
         errors=("nb/true.ipynb", "nb/missing.ipynb", "nb/text.ipynb", "nb/truncated.ipynb"),
         finds=("QG-SEC-008",)),
    Case("yaml-bombs", _yaml_bombs, errors=(".gitlab-ci.yml", "k8s/bomb.yaml", "environment.yml"),
         finds=("QG-SEC-008",)),
    Case("requirements-long-lines", _requirements_long_lines, finds=("QG-SEC-008",)),
    Case("long-lines", _long_lines, finds=("QG-SEC-008",)),
    Case("notebook-long-output", _notebook_long_output, finds=("QG-SEC-008",)),
    Case("url-tokens", _url_tokens, never_printed=(TOKEN, TOKEN[:20])),
    Case("deep-nesting", _deep_nesting, errors=("k8s/deep.yaml", "nb/deep.ipynb"),
         finds=("QG-SEC-008",)),
    Case("binary-and-huge", _binary_and_huge, errors=("data.bin.txt", "huge.txt"),
         finds=("QG-SEC-008",)),
    Case("symlinks", _symlinks, errors=("loop", "outside"), finds=("QG-SEC-008",)),
    Case("vendor-profiles", _vendor_profiles,
         errors=("vendors/typo.yaml", "vendors/bad-date.yaml", "vendors/bomb.yaml",
                 "vendors/binary.yaml", "vendors/pipe.yaml"),
         finds=("QG-SEC-008", "QG-VND-001"), never_printed=(TOKEN,)),
    Case("odd-arns", _odd_arns, finds=("QG-SEC-008",)),
    Case("long-import-lines", _long_import_lines, finds=("QG-SEC-008",)),
    Case("notebook-many-imports", _notebook_many_imports, finds=("QG-SEC-008",)),
)


def build(case: Case, target: Path) -> Path:
    root = target / case.name
    root.mkdir(parents=True, exist_ok=True)
    case.build(root)
    return root


if __name__ == "__main__":
    for case in CASES:
        print(f"{case.name}: {build(case, Path(sys.argv[1]))}")


# --- governance policies and exceptions registers (qgov scan reads them leniently) ------------

def _policy_bad_input(root: Path) -> None:
    """An unknown field, an impossible date and a wrong type: each file one scan error
    naming the field and its line; the rest of the tree is still scanned."""
    _write(root, "governance/policy.yaml",
           "roles:\n  - name: r\n    owner: o\n    colour: red\n")
    _write(root, "governance/dates.yaml",
           "roles:\n  - name: r\n    owner: o\n    expires: 2027-02-30\n")
    _write(root, ".qgov-exceptions.yaml", "exceptions: {id: E}\n")
    _leak(root)


def _policy_credential_values(root: Path) -> None:
    """Credential *values* where references belong: shared across environments, reported,
    never printed."""
    _write(root, "governance/policy.yaml",
           "roles:\n  - {name: r, owner: o, purpose: p, expires: 2099-01-01}\n"
           f"environments:\n  - name: dev\n    credentials: [{TOKEN}]\n"
           f"  - name: production\n    credentials: [{TOKEN}]\n")
    _leak(root)


def _policy_hostile_sizes(root: Path) -> None:
    """Long names and many entries: the checks stay quick (every role against every
    project is bounded by the file-size cap)."""
    roles = "".join(f"  - {{name: r{i}, owner: o, backends: [b]}}\n" for i in range(2000))
    projects = "".join(f"  - {{name: p{i}, owner: o{i % 7}, environments: [dev]}}\n"
                       for i in range(300))
    _write(root, "governance/big.yaml", f"roles:\n{roles}projects:\n{projects}"
           f"identities:\n  - {{subject: 's{'x' * LONG}', kind: service, roles: [r1]}}\n")
    _leak(root)


CASES = (
    *CASES,
    Case("policy-bad-input", _policy_bad_input,
         errors=("governance/policy.yaml", "governance/dates.yaml", ".qgov-exceptions.yaml"),
         finds=("QG-SEC-008",)),
    Case("policy-credential-values", _policy_credential_values,
         finds=("QG-GOV-011", "QG-SEC-008"), never_printed=(TOKEN, TOKEN[:20])),
    Case("policy-hostile-sizes", _policy_hostile_sizes, finds=("QG-GOV-001", "QG-SEC-008")),
)


# --- git history (qgov scan --history reads every blob of every commit) ----------------------

@dataclass(frozen=True)
class HistoryCase:
    name: str
    build: Callable[[Path], None]
    finds: tuple[str, ...] = ()  # rule ids the history scan must still report
    notices: tuple[str, ...] = ()  # text some notice must hold
    never_printed: tuple[str, ...] = ()


def _git(root: Path, *args: str, input: bytes | None = None) -> None:
    from tests.git_helpers import git

    git(root, *args, input=input)


def _history_repo(root: Path) -> None:
    _git(root, "init", "-q", "-b", "main")
    _leak(root, "old/leak.py")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "leak")
    _git(root, "rm", "-rq", "old")
    _git(root, "commit", "-q", "-m", "remove the leak")


def _history_huge_blob(root: Path) -> None:
    """A 64 MiB blob in history (and one over 2**31 bytes would only cost its header):
    skipped by size, never read."""
    _history_repo(root)
    _write(root, "dump.sql", b"INSERT INTO t VALUES (1);\n" * (64 * 1024 * 1024 // 26))
    _git(root, "add", "dump.sql")
    _git(root, "commit", "-q", "-m", "dump")
    _git(root, "rm", "-q", "dump.sql")
    _git(root, "commit", "-q", "-m", "drop dump")


def _history_odd_names(root: Path) -> None:
    """Names git stores as bytes: not UTF-8, control characters, bidi overrides, newlines."""
    _history_repo(root)
    for name in (b"caf\xe9/notes\xff.py", b"bell\x07/esc\x1b[31m.py",
                 "rtl\u202egnp.py".encode(), b"new\nline.py", b"-rf.py", b"--all.py"):
        _write(root, name, f'IONQ_API_KEY = "{TOKEN}"\n'.encode())
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "odd names")
    _git(root, "rm", "-rq", ".")
    _git(root, "commit", "-q", "-m", "empty the tree")


def _history_many_commits(root: Path, commits: int = 100_000) -> None:
    """100,000 commits (git fast-import builds them in seconds): the scan stops at its
    time cap with a notice instead of running for minutes."""
    _git(root, "init", "-q", "-b", "main")
    lines = []
    for i in range(1, commits + 1):
        data = f"value = {i}\n" if i != 7 else f'IONQ_API_KEY = "{TOKEN}"\n'
        lines.append(f"commit refs/heads/main\nmark :{i}\n"
                     f"committer A <a@example.org> {1700000000 + i} +0000\ndata 1\nc\n")
        if i > 1:
            lines.append(f"from :{i - 1}\n")
        lines.append(f"M 100644 inline f{i % 50}.py\ndata {len(data)}\n{data}\n")
    _git(root, "fast-import", "--quiet", input="".join(lines).encode())
    _git(root, "reset", "-q", "--hard", "main")
    _write(root, ".qgov.yaml", "history_timeout: 2\n")


HISTORY_CASES: tuple[HistoryCase, ...] = (
    HistoryCase("history-huge-blob", _history_huge_blob, finds=("QG-SEC-008",),
                notices=("larger than max_file_size",), never_printed=(TOKEN,)),
    HistoryCase("history-odd-names", _history_odd_names, finds=("QG-SEC-008",),
                never_printed=(TOKEN, "\x1b[31m", "\u202e", "\x07")),
    # No finding is required here: under load the 2 s cap can fall before commit 7 is
    # read. What must hold is the stop with its notice, and no token in the output.
    HistoryCase("history-many-commits", _history_many_commits,
                notices=("history scan stopped",), never_printed=(TOKEN,)),
)
