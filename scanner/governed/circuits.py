"""Loading a job's circuit as data and computing the hash every record and event carries.

Circuits come from OpenQASM files parsed by qiskit (``qiskit.qasm2``; OpenQASM 3 input needs
the optional ``qiskit-qasm3-import`` package). Nothing from a job is imported or executed.

Which bytes are hashed, and why: the circuit hash is SHA-256 over the **OpenQASM 3 text that
``qiskit.qasm3.dumps`` produces from the loaded circuit** (``hash_format = "openqasm3-text"``).
- It is a function of the circuit, not of how the file was written: comments, whitespace and
  OpenQASM 2 vs 3 spelling of the same circuit give the same hash.
- It is text: an auditor can diff two versions, or recompute the hash with any tool, without
  qiskit's binary formats.
- QPY was not chosen: its bytes carry the QPY format version and the writing qiskit's version
  and change between releases even for an identical circuit, so a hash over QPY would break
  replay comparisons on every upgrade.
The exporter's output can itself change between qiskit releases; the record therefore also
stores the SHA-256 of the source file as written and the qiskit version, so a hash difference
after an upgrade can be told apart from a changed circuit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.governed.canonical import sha256_hex
from scanner.governed.errors import SpecError

MAX_CIRCUIT_BYTES = 1024 * 1024
HASH_FORMAT = "openqasm3-text"
HASH_NOTE = (
    "SHA-256 of qiskit.qasm3.dumps(circuit) as UTF-8: stable, human-diffable text that does not "
    "depend on comments or formatting of the source file; QPY bytes embed format and library "
    "versions, so they were not used"
)
_VERSION = re.compile(rb"^\s*(?://[^\n]*\n\s*)*OPENQASM\s+(\d+)(?:\.\d+)?\s*;", re.MULTILINE)


@dataclass(frozen=True)
class LoadedCircuit:
    circuit: Any  # qiskit.QuantumCircuit (kept untyped so importing this module stays cheap)
    source_path: Path
    source_format: str
    source_sha256: str
    source_bytes: int
    canonical_text: str
    circuit_sha256: str

    def summary(self) -> dict[str, Any]:
        """Sizes and hashes only -- what logs and ledger events may say about a circuit."""
        ops = {str(name): int(count) for name, count in self.circuit.count_ops().items()}
        return {
            "hash_format": HASH_FORMAT,
            "sha256": self.circuit_sha256,
            "source_format": self.source_format,
            "source_sha256": self.source_sha256,
            "source_bytes": self.source_bytes,
            "num_qubits": int(self.circuit.num_qubits),
            "num_clbits": int(self.circuit.num_clbits),
            "depth": int(self.circuit.depth()),
            "size": int(self.circuit.size()),
            "ops": ops,
        }


def detect_format(raw: bytes) -> str:
    match = _VERSION.search(raw[:4096])
    if match is None:
        raise SpecError("no 'OPENQASM <version>;' header")
    return "openqasm3" if match.group(1) == b"3" else "openqasm2"


def load_circuit(
    path: Path, declared: str = "auto", *, field: str = "circuit.path"
) -> LoadedCircuit:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"field '{field}': cannot read {path}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_CIRCUIT_BYTES:
        raise SpecError(f"field '{field}': circuit file is larger than {MAX_CIRCUIT_BYTES} bytes")
    try:
        fmt = detect_format(raw) if declared == "auto" else declared
        text = raw.decode("utf-8")
    except (SpecError, UnicodeDecodeError) as exc:
        raise SpecError(f"field '{field}': {path} is not OpenQASM text ({exc})") from exc
    circuit = _parse(text, fmt, path, field)
    from qiskit import qasm3

    canonical = qasm3.dumps(circuit)
    return LoadedCircuit(
        circuit=circuit,
        source_path=path,
        source_format=fmt,
        source_sha256=sha256_hex(raw),
        source_bytes=len(raw),
        canonical_text=canonical,
        circuit_sha256=sha256_hex(canonical),
    )


def _parse(text: str, fmt: str, path: Path, field: str) -> Any:
    if fmt == "openqasm2":
        from qiskit import qasm2

        try:
            # include_path=() : only the built-in qelib1.inc; a job cannot pull in other files.
            return qasm2.loads(
                text,
                include_path=(),
                custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS,
                strict=False,
            )
        except qasm2.QASM2ParseError as exc:
            raise SpecError(f"field '{field}': {path.name} is not valid OpenQASM 2: {exc}") from exc
    from qiskit import qasm3

    try:
        return qasm3.loads(text)
    except ImportError as exc:  # qiskit raises MissingOptionalLibraryError (an ImportError)
        raise SpecError(
            f"field '{field}': OpenQASM 3 input needs the optional 'qiskit-qasm3-import' "
            "package; install it or give the circuit as OpenQASM 2"
        ) from exc
    except Exception as exc:  # the importer raises its own error types
        raise SpecError(f"field '{field}': {path.name} is not valid OpenQASM 3: {exc}") from exc
