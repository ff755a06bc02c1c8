"""A discovered file: read once (through ``scanner.fs``), classified, parsed at most once per
format.

Detectors receive a ``SourceFile`` and never touch the file system. The parsed forms they
share are typed views here (notebook cells, the notebook's Python, a dependency manifest,
Terraform HCL, Dockerfile instructions; JSON, TOML and YAML come from ``Document``), each
computed once per file whichever detector or engine asks first.
"""

from __future__ import annotations

import hashlib
import posixpath
from functools import cached_property
from pathlib import Path, PurePosixPath

from scanner.formats.dockerfile import Instruction, parse_dockerfile
from scanner.formats.document import Document, unwrap
from scanner.formats.errors import ParseError
from scanner.formats.hcl import HclFile, parse_terraform
from scanner.formats.manifests import Manifest, parse_manifest
from scanner.formats.manifests.requirements import IncludeReader
from scanner.formats.notebook import NotebookCell, NotebookPython, load_cells, notebook_python
from scanner.fs import FileRefused, ScanRoot
from scanner.model import FileKind, ScanError

# -r/-c includes are small text files; anything bigger is not followed.
MAX_INCLUDE_BYTES = 2 * 1024 * 1024


class SourceFile(Document):
    """Content plus metadata for one file under a scan root."""

    def __init__(
        self,
        path: str,
        abs_path: Path,
        kind: FileKind,
        text: str,
        root: ScanRoot | None = None,
    ) -> None:
        super().__init__(path, text)
        self.abs_path = abs_path
        self.kind = kind
        # The scan root, for views that need a second file (requirements includes).
        self.root = root
        # False: the text came from git's index (--staged), not from the file on disk.
        self.on_disk = True
        # Files that views read through ``root``: (path, content hash or None), so the
        # result cache can tell when an include changed.
        self.included: list[tuple[str, str | None]] = []

    def __repr__(self) -> str:
        return f"SourceFile({self.path!r}, {self.kind.value})"

    # A file travels to a worker process as what it was read as, not with the parsed views
    # computed so far: the engine thread may be adding views to it at that very moment.
    def __getstate__(self) -> dict[str, object]:
        return {
            "path": self.path,
            "text": self.text,
            "abs_path": self.abs_path,
            "kind": self.kind,
            "root": self.root,
            "on_disk": self.on_disk,
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.included = []

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name

    def error(self, message: str, line: int | None = None) -> ScanError:
        return ScanError(path=self.path, reason="parse-error", message=message, line=line)

    # --- typed views -------------------------------------------------------------------------

    @cached_property
    def _cells(self) -> list[NotebookCell] | ParseError:
        try:
            return load_cells(self)
        except ParseError as exc:
            return exc

    @property
    def notebook_cells(self) -> list[NotebookCell]:
        return unwrap(self._cells)

    @cached_property
    def notebook_python(self) -> NotebookPython:
        """Code cells as one Python text with a line map back (raises ParseError)."""
        return notebook_python(self, self.notebook_cells)

    @cached_property
    def _manifest(self) -> Manifest | None | ParseError:
        try:
            return parse_manifest(self, self.kind, self._include_reader())
        except ParseError as exc:
            return exc

    @property
    def manifest(self) -> Manifest | None:
        """The dependency manifest in this file, None for a file that holds none."""
        return unwrap(self._manifest)

    @cached_property
    def _hcl(self) -> HclFile | ParseError:
        try:
            return parse_terraform(self.text, self.path)
        except ParseError as exc:
            return exc

    @property
    def hcl(self) -> HclFile:
        return unwrap(self._hcl)

    @cached_property
    def dockerfile(self) -> list[Instruction]:
        return parse_dockerfile(self.text)

    def _include_reader(self) -> IncludeReader | None:
        """Read ``-r``/``-c`` targets relative to the including file, never outside the root
        (textually or through a symlink), never more than ``MAX_INCLUDE_BYTES``."""
        root = self.root
        if root is None:
            return None

        def read(including: str, target: str) -> tuple[str, str] | str:
            candidate = PurePosixPath(target.replace("\\", "/"))
            if candidate.is_absolute():
                rel = root.relative(Path(candidate))
                if rel is None:
                    return "outside the scanned root; not followed"
            else:
                rel = posixpath.normpath((PurePosixPath(including).parent / candidate).as_posix())
            try:
                text = root.read_text(rel, max_bytes=MAX_INCLUDE_BYTES)
            except FileRefused as exc:
                self.included.append((rel, None))
                if exc.reason == "too-large":
                    return "too large to follow"
                if exc.reason == "unreadable":
                    return f"cannot read ({exc.message.removeprefix('cannot read: ')})"
                return exc.message
            self.included.append((rel, _digest(text)))
            return rel, text

        return read


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
