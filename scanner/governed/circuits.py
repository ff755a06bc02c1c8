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

A circuit file is hostile input until proven otherwise, and qiskit's parser and exporter
cannot be interrupted once running: ``qreg q[2000000000];`` allocates until memory runs out,
and a chain of gate definitions each calling the previous one twice costs the exporter time
exponential in its depth. So a cheap textual pre-scan (:func:`prescan`, linear in the file)
refuses before the parser runs: file size, line and statement counts, declared qubits
(against the backend's ``max_qubits``) and clbits, gate-definition nesting depth, the number
of operations once user gates are expanded, and unbounded or huge loops (OpenQASM 3). Errors
name the file and the limit, never its content: the parser's own messages quote the text, so
only their line and column are passed on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.governed.canonical import sha256_hex
from scanner.governed.errors import SpecError
from scanner.governed.extra import require_job_extra
from scanner.governed.files import read_file

MAX_CIRCUIT_BYTES = 1024 * 1024
# Pre-scan limits. Measured on qiskit 2.x: the exporter needs ~40 us per expanded operation,
# so 50,000 operations stay around two seconds; 20,000 statements parse and export in ~1 s.
MAX_LINES = 100_000
MAX_STATEMENTS = 20_000
MAX_GATE_NESTING = 16
MAX_EXPANDED_OPS = 50_000
MAX_CLBITS = 4096
MAX_LOOP_ITERATIONS = 10_000
DEFAULT_MAX_QUBITS = 40  # the largest max_qubits a policy backend may set
HASH_FORMAT = "openqasm3-text"
HASH_NOTE = (
    "SHA-256 of qiskit.qasm3.dumps(circuit) as UTF-8: stable, human-diffable text that does not "
    "depend on comments or formatting of the source file; QPY bytes embed format and library "
    "versions, so they were not used"
)
_VERSION = re.compile(rb"^\s*(?://[^\n]*\n\s*)*OPENQASM\s+(\d+)(?:\.\d+)?\s*;", re.MULTILINE)
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_GATE_KW = re.compile(r"\bgate\b")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MODIFIERS = re.compile(r"(?:(?:inv|ctrl|negctrl|pow)\s*(?:\([^()]*\))?\s*@\s*)*")
_QUANTUM_DECLS = (
    re.compile(r"\bqreg\s+[A-Za-z_]\w*\s*\[([^\]]*)\]"),
    re.compile(r"\bqubit\s*\[([^\]]*)\]"),
)
_CLASSICAL_DECLS = (
    re.compile(r"\bcreg\s+[A-Za-z_]\w*\s*\[([^\]]*)\]"),
    re.compile(r"\bbit\s*\[([^\]]*)\]"),
)
_SINGLE_QUBIT = re.compile(r"\bqubit\s+[A-Za-z_]")
_SINGLE_BIT = re.compile(r"\bbit\s+[A-Za-z_]")
_PHYSICAL = re.compile(r"\$(\d+)")
_FOR_RANGE = re.compile(r"\bfor\b[^;{]*?\bin\s*\[([^\]]*)\]")
_FOR_ANY = re.compile(r"\bfor\b")
_WHILE = re.compile(r"\bwhile\b")
_PARSE_POSITION = re.compile(r"<input>:(\d+),(\d+)")


class CircuitRefused(SpecError):
    """The pre-scan refused a circuit before any parser saw it."""


@dataclass(frozen=True)
class Prescan:
    """What the pre-scan counted (all of it from the text, none of it parsed)."""

    lines: int
    statements: int
    qubits: int
    clbits: int
    gate_nesting: int
    expanded_ops: int


def _size(designator: str, what: str) -> int:
    value = designator.strip()
    if not value.isdigit():
        raise CircuitRefused(f"declares a {what} register whose size is not a number")
    return int(value)


def _split_gates(text: str) -> tuple[dict[str, str], str]:
    """``({gate name: body}, the text outside gate definitions)`` in one forward pass (each
    character is looked at a bounded number of times, so hostile text stays linear)."""
    gates: dict[str, str] = {}
    outside: list[str] = []
    pos = 0
    while (match := _GATE_KW.search(text, pos)) is not None:
        outside.append(text[pos : match.start()])
        semi = text.find(";", match.end())
        stop = len(text) if semi == -1 else semi
        brace = text.find("{", match.end(), stop)
        if brace == -1:  # not a definition ('gate' used otherwise): leave it to the parser
            outside.append(text[match.start() : stop])
            pos = stop
            continue
        close = text.find("}", brace)
        if close == -1:
            raise CircuitRefused("has a gate definition without a closing brace")
        name = _IDENT.search(text, match.end(), brace)
        if name is not None:
            gates[name.group(0)] = text[brace + 1 : close]
        pos = close + 1
    outside.append(text[pos:])
    return gates, "".join(outside)


def _calls(body: str) -> list[tuple[str, bool]]:
    """``(callee, broadcast)`` per statement: the operation's name after any modifiers, and
    whether an operand is a whole register (so the call repeats per qubit)."""
    found = []
    for statement in body.split(";"):
        statement = statement.strip().lstrip("{}").strip()
        if not statement:
            continue
        rest = statement[_MODIFIERS.match(statement).end() :]  # type: ignore[union-attr]
        name = _IDENT.match(rest)
        if name is None:
            continue
        operands = rest[name.end() :]
        if operands.lstrip().startswith("("):
            operands = operands.split(")", 1)[-1]
        broadcast = any(part.strip() and "[" not in part for part in operands.split(","))
        found.append((name.group(0), broadcast))
    return found


def _expansion(gates: dict[str, str]) -> tuple[dict[str, int], dict[str, int]]:
    """Per user gate: operations once fully expanded, and definition nesting depth."""
    calls = {name: [callee for callee, _ in _calls(body)] for name, body in gates.items()}
    size: dict[str, int] = {}
    depth: dict[str, int] = {}
    for root in gates:
        stack: list[tuple[str, bool]] = [(root, False)]
        open_: set[str] = set()
        while stack:
            name, done = stack.pop()
            if name in size:
                continue
            if done:
                open_.discard(name)
                inner = [c for c in calls[name] if c in gates]
                size[name] = min(
                    sum(size[c] if c in gates else 1 for c in calls[name]), MAX_EXPANDED_OPS + 1
                )
                depth[name] = 1 + max((depth[c] for c in inner), default=0)
                continue
            if name in open_:
                raise CircuitRefused("has a gate definition that calls itself")
            open_.add(name)
            stack.append((name, True))
            for callee in calls[name]:
                if callee in gates and callee not in size:
                    if callee in open_:
                        raise CircuitRefused("has a gate definition that calls itself")
                    stack.append((callee, False))
    return size, depth


def prescan(text: str, *, max_qubits: int = DEFAULT_MAX_QUBITS) -> Prescan:
    """Count what makes a circuit expensive to parse, export or run; ``CircuitRefused``
    (a ``SpecError``) over any limit."""
    lines = text.count("\n") + 1
    if lines > MAX_LINES:
        raise CircuitRefused(f"has more than {MAX_LINES:,} lines")
    code = _COMMENT.sub(" ", text)
    statements = code.count(";")
    if statements > MAX_STATEMENTS:
        raise CircuitRefused(f"has more than {MAX_STATEMENTS:,} statements")
    qubits = sum(_size(m.group(1), "qubit") for r in _QUANTUM_DECLS for m in r.finditer(code))
    qubits += len(_SINGLE_QUBIT.findall(code))
    physical = [int(m.group(1)) for m in _PHYSICAL.finditer(code)]
    qubits = max(qubits, max(physical, default=-1) + 1)
    if qubits > max_qubits:
        raise CircuitRefused(
            f"declares {qubits:,} qubits; the backend allows at most {max_qubits}"
        )
    clbits = sum(_size(m.group(1), "bit") for r in _CLASSICAL_DECLS for m in r.finditer(code))
    clbits += len(_SINGLE_BIT.findall(code))
    if clbits > MAX_CLBITS:
        raise CircuitRefused(f"declares {clbits:,} classical bits; at most {MAX_CLBITS:,}")
    if _WHILE.search(code):
        raise CircuitRefused("has a while loop (unbounded loops are not accepted)")
    ranged = list(_FOR_RANGE.finditer(code))
    if len(ranged) != len(_FOR_ANY.findall(code)):
        raise CircuitRefused("has a for loop over something other than a literal range")
    for loop in ranged:
        parts = [p.strip() for p in loop.group(1).split(":")]
        if len(parts) not in (2, 3) or not all(p.lstrip("-").isdigit() for p in parts):
            raise CircuitRefused("has a for loop whose range is not made of integer literals")
        start, stop = int(parts[0]), int(parts[-1])
        step = int(parts[1]) if len(parts) == 3 else 1
        if step == 0 or abs(stop - start) // abs(step) + 1 > MAX_LOOP_ITERATIONS:
            raise CircuitRefused(f"has a for loop over more than {MAX_LOOP_ITERATIONS:,} values")
    gates, outside = _split_gates(code)
    size, depth = _expansion(gates)
    nesting = max(depth.values(), default=0)
    if nesting > MAX_GATE_NESTING:
        raise CircuitRefused(
            f"nests gate definitions {nesting} deep; at most {MAX_GATE_NESTING}"
        )
    expanded = 0
    for callee, broadcast in _calls(outside):
        ops = size.get(callee, 1) * (max(qubits, 1) if broadcast else 1)
        expanded += ops
        if expanded > MAX_EXPANDED_OPS:
            raise CircuitRefused(
                f"expands to more than {MAX_EXPANDED_OPS:,} operations once its gate "
                "definitions are inlined"
            )
    return Prescan(lines, statements, qubits, clbits, nesting, expanded)


@dataclass(frozen=True)
class LoadedCircuit:
    circuit: Any  # qiskit.QuantumCircuit (kept untyped so importing this module stays cheap)
    source_path: Path
    source_format: str
    source_sha256: str
    source_bytes: int
    canonical_text: str
    circuit_sha256: str
    source_text: str = ""  # what the scrubber must recognise; never logged

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
    path: Path,
    declared: str = "auto",
    *,
    field: str = "circuit.path",
    max_qubits: int = DEFAULT_MAX_QUBITS,
) -> LoadedCircuit:
    raw = read_file(path, max_bytes=MAX_CIRCUIT_BYTES, what=f"field '{field}': circuit")
    try:
        fmt = detect_format(raw) if declared == "auto" else declared
        text = raw.decode("utf-8")
    except SpecError as exc:
        raise SpecError(f"field '{field}': {path} is not OpenQASM text ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"field '{field}': {path} is not OpenQASM text (not UTF-8)") from exc
    try:
        prescan(text, max_qubits=max_qubits)
    except CircuitRefused as exc:
        raise CircuitRefused(f"field '{field}': circuit {path.name} {exc}; not parsed") from exc
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
        source_text=text,
    )


def _where(exc: Exception) -> str:
    """Only the position of a parse error: the parser's messages quote the file's text."""
    found = _PARSE_POSITION.search(str(exc))
    return f" (line {found.group(1)}, column {found.group(2)})" if found else ""


def _parse(text: str, fmt: str, path: Path, field: str) -> Any:
    require_job_extra("qiskit")
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
            raise SpecError(
                f"field '{field}': {path.name} is not valid OpenQASM 2{_where(exc)}"
            ) from exc
    from qiskit import qasm3

    try:
        return qasm3.loads(text)
    except ImportError as exc:  # qiskit raises MissingOptionalLibraryError (an ImportError)
        raise SpecError(
            f"field '{field}': OpenQASM 3 input needs the optional 'qiskit-qasm3-import' "
            "package; install it or give the circuit as OpenQASM 2"
        ) from exc
    except Exception as exc:  # the importer raises its own error types
        raise SpecError(
            f"field '{field}': {path.name} is not valid OpenQASM 3{_where(exc)}"
        ) from exc
