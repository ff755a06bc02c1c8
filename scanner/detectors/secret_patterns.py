"""Credential patterns, mostly declarations: a rule id, a regex and what the match means.

The regexes find candidates; ``is_placeholder`` and entropy decide whether a candidate is a
real-looking value. ``find_secrets`` is shared by the file detector and the notebook
detector (cell sources and stored outputs) so both report identical rule ids.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from scanner.detectors.secret_names import secret_name
from scanner.model import Confidence


@dataclass(frozen=True)
class SecretPattern:
    rule_id: str
    label: str  # human name used in messages ("IBM Cloud API key")
    regex: re.Pattern[str]
    group: int = 0  # which group holds the secret value
    confidence: Confidence = Confidence.HIGH
    min_entropy: float = 0.0  # extra gate for context-only patterns
    check_placeholder: bool = True
    # A match preceded (within a few characters) by this is not a credential, e.g. a digest.
    not_after: re.Pattern[str] | None = None


@dataclass(frozen=True)
class SecretMatch:
    rule_id: str
    label: str
    value: str
    start: int  # offset of the value in the scanned text
    end: int
    confidence: Confidence
    advice: str = ""  # why it matters and what to do instead, when the label is not enough


_Q = r"[\"']"  # a quote
# Assignment on one line only: a YAML key followed by a nested block is not a value.
_ASSIGN = r"[ \t]*(?:=|:|=>)[ \t]*"

PATTERNS: tuple[SecretPattern, ...] = (
    SecretPattern(
        "QG-SEC-012",
        "private key",
        re.compile(
            r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----"
            r"[\s\S]{16,8192}?-----END (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY"
        ),
        check_placeholder=False,
    ),
    SecretPattern(
        "QG-SEC-004",
        "AWS access key id",
        re.compile(r"(?<![A-Z0-9])((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Z0-9])"),
        group=1,
    ),
    SecretPattern(
        "QG-SEC-005",
        "AWS secret access key",
        re.compile(
            r"(?i)aws_?secret_?(?:access_?)?key[\"']?" + _ASSIGN + _Q
            + r"?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
        ),
        group=1,
        min_entropy=3.5,
    ),
    SecretPattern(
        "QG-SEC-007",
        "Azure storage account key",
        re.compile(r"AccountKey=([A-Za-z0-9+/]{86}==)"),
        group=1,
    ),
    SecretPattern(
        "QG-SEC-006",
        "Azure Quantum access key",
        re.compile(r"(?i)(?:ApiKey=|x-ms-quantum-api-key[\"']?" + _ASSIGN + _Q + r"?)"
                   r"([A-Za-z0-9+/=_-]{24,})"),
        group=1,
        min_entropy=3.0,
    ),
    SecretPattern(
        "QG-SEC-002",
        "legacy IBM Quantum Experience token",
        re.compile(r"(?<![0-9a-fA-F])([0-9a-f]{128})(?![0-9a-fA-F])"),
        group=1,
        # SHA-512 digests have the same shape: lock files, checksums, integrity fields.
        not_after=re.compile(r"(?i)(sha-?512|sha3|blake2|hash|digest|checksum)[^\n]{0,24}$"),
    ),
    SecretPattern(
        "QG-SEC-003",
        "IBM Quantum token passed as a literal",
        re.compile(
            r"(?:QiskitRuntimeService|IBMQ\.enable_account|IBMQ\.save_account|save_account|"
            r"IBMProvider)\s*\((?:[^()]{0,300}?\btoken\s*=\s*|\s*)" + _Q + r"([^\"'\s]{20,})" + _Q
        ),
        group=1,
        min_entropy=3.0,
    ),
    SecretPattern(
        "QG-SEC-009",
        "D-Wave Leap API token",
        re.compile(r"(?<![A-Za-z0-9])([A-Z]{2,4}-[0-9a-f]{40,})(?![0-9a-f])"),
        group=1,
    ),
    SecretPattern(
        "QG-SEC-001",
        "IBM Cloud API key",
        re.compile(
            r"(?i)(?:ibm|iam|cloud|qiskit|quantum|apikey|api_key|api-key|token|QE_TOKEN)"
            r"[A-Za-z0-9_.-]{0,30}[\"']?" + _ASSIGN + _Q + r"?([A-Za-z0-9_-]{44})(?![A-Za-z0-9_-])"
        ),
        group=1,
        min_entropy=3.5,
    ),
    SecretPattern(
        "QG-SEC-008",
        "IonQ API key",
        re.compile(
            r"(?:IONQ_API_KEY[\"']?" + _ASSIGN + r"|IonQProvider\s*\(\s*(?:token\s*=\s*)?)"
            + _Q + r"?([A-Za-z0-9_.+/=-]{16,})"
        ),
        group=1,
        min_entropy=3.0,
    ),
    SecretPattern(
        "QG-SEC-011",
        "Pasqal cloud credential",
        re.compile(
            r"(?:PASQAL_PULSER_ACCESS_TOKEN[\"']?" + _ASSIGN + _Q + r"?|"
            r"PasqalCloudClient\s*\([^()]{0,300}?password\s*=\s*" + _Q + r")"
            r"([^\s\"']{8,})"
        ),
        group=1,
        min_entropy=2.5,
    ),
    SecretPattern(
        "QG-SEC-010",
        "bearer token (JWT, as used by Quantinuum and Rigetti)",
        re.compile(
            r"(?<![A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,})"
        ),
        group=1,
    ),
    SecretPattern(
        # postgres://svc:Pa55word@db…, amqp://…, https://user:token@git…: the password part.
        # Format strings and variables (`{pw}`, `%s`, `$PW`) are not literals.
        "QG-SEC-017",
        "password in a connection URL",
        # Services on the developer's own machine (localhost) are left out: their
        # passwords are local defaults, not shared credentials.
        re.compile(
            r"\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@'\"<>{}$%]{0,64}:"
            r"([^\s/@'\"<>{}$%]{4,128})@(?!localhost\b|127\.0\.0\.1\b|0\.0\.0\.0\b)[a-z0-9]",
            re.I,
        ),
        group=1,
        confidence=Confidence.MEDIUM,
    ),
)

#: Every rule ``find_secrets`` can report.
SECRET_RULES = frozenset(
    {p.rule_id for p in PATTERNS} | {"QG-SEC-013", "QG-SEC-016", "QG-SEC-018"}
)

# --- QG-SEC-018: a literal credential written into the process environment by code ----------
#
# `os.environ["QISKIT_IBM_TOKEN"] = "…"`, `os.environ.setdefault(…)`, `os.putenv(…)`,
# `os.environ.update({…})` / `update(NAME="…")`, and IPython's `%env NAME=…` / `%set_env`.
# Names and whitespace are bounded and every pattern starts at a literal word (`environ`,
# `putenv`, `%env`), so a hostile line costs one bounded attempt per occurrence: linear.

_ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,100}"
_WS = r"\s{0,80}"
ENV_SET = re.compile(
    r"(?<![\w.])(?:os\.)?(?:"
    rf"environ[ \t]*\[{_WS}(?P<q1>[\"'])(?P<n1>{_ENV_NAME})(?P=q1){_WS}\][ \t]*=(?!=)"
    rf"|environ\.setdefault[ \t]*\({_WS}(?P<q2>[\"'])(?P<n2>{_ENV_NAME})(?P=q2){_WS},"
    rf"|putenv[ \t]*\({_WS}(?P<q3>[\"'])(?P<n3>{_ENV_NAME})(?P=q3){_WS},"
    rf"){_WS}(?P<vq>[\"'])(?P<value>[^\"'\n]{{1,300}})(?P=vq)"
)
ENV_UPDATE = re.compile(r"(?<![\w.])(?:os\.)?environ\.update[ \t]*\(")
# One `"NAME": "value"` or `NAME="value"` inside the parentheses of environ.update(…).
_ENV_UPDATE_PAIR = re.compile(
    rf"(?:(?P<q>[\"'])(?P<n1>{_ENV_NAME})(?P=q){_WS}:|(?<![\w.\"'])(?P<n2>{_ENV_NAME})[ \t]*=(?!=))"
    rf"{_WS}(?P<vq>[\"'])(?P<value>[^\"'\n]{{1,300}})(?P=vq)"
)
# How far past `environ.update(` its arguments are read (a dict of a few variables).
_UPDATE_WINDOW = 4000
ENV_MAGIC = re.compile(
    rf"^[ \t]*%(?:set_)?env[ \t]+(?P<n1>{_ENV_NAME})(?:[ \t]*=[ \t]*|[ \t]+)"
    r"(?:(?P<vq>[\"'])(?P<qvalue>[^\"'\n]{1,300})(?P=vq)|(?P<value>[^\s\"']{1,300}))",
    re.M,
)
# Environment variables that carry a credential, by how their names end: provider tokens
# (QISKIT_IBM_TOKEN, DWAVE_API_TOKEN, AWS_SESSION_TOKEN), keys (IONQ_API_KEY,
# AWS_SECRET_ACCESS_KEY), secrets (AZURE_CLIENT_SECRET), connection strings
# (AZURE_QUANTUM_CONNECTION_STRING). Applied to a captured name of at most 101 characters.
ENV_SECRET_NAME = re.compile(
    r"(?:^|_)(?:TOKEN|API_?KEY|SECRET|SECRET_KEY|SECRET_ACCESS_KEY|ACCESS_KEY|PRIVATE_KEY"
    r"|AUTH_KEY|SAS_KEY|PASSWORD|PASSWD|CONNECTION_STRING)$",
    re.I,
)

# The secretless (or at least code-less) alternative, by provider.
_ENV_ADVICE = (
    (re.compile(r"^AWS_", re.I),
     "use an IAM role instead (SSO, an instance or task role, or OIDC federation from CI): "
     "Amazon Braket then gets short-lived credentials and nothing is stored"),
    (re.compile(r"^(?:AZURE|ARM)_", re.I),
     "authenticate with Entra ID instead (DefaultAzureCredential with a managed identity or "
     "workload identity federation); Azure Quantum workspaces can then disable access keys"),
    (re.compile(r"^(?:QISKIT|IBM|QE_|IBMQ)", re.I),
     "let QiskitRuntimeService() read QISKIT_IBM_TOKEN from the environment the job runs in "
     "(a secret manager or CI secret); for automation an IBM Cloud trusted profile avoids a "
     "personal key"),
)
_ENV_DEFAULT_ADVICE = (
    "set it outside the code, from a secret manager or the CI's secret store, so the process "
    "reads it at run time"
)


def _env_advice(name: str, how: str) -> str:
    alternative = next(
        (text for pattern, text in _ENV_ADVICE if pattern.match(name)), _ENV_DEFAULT_ADVICE
    )
    return (
        f": {how} puts the literal in the code, so it ships with every copy of the file and "
        f"every process started from it inherits it; rotate it and {alternative}"
    )


def _environment_writes(text: str) -> Iterator[tuple[str, str, int, int, str]]:
    """``(name, value, start, end, how)`` for each literal written into the environment."""
    for match in ENV_SET.finditer(text):
        name = match.group("n1") or match.group("n2") or match.group("n3")
        how = (
            f'os.environ["{name}"] = …' if match.group("n1")
            else "os.environ.setdefault(…)" if match.group("n2") else "os.putenv(…)"
        )
        yield name, match.group("value"), *match.span("value"), how
    updates = [match.end() for match in ENV_UPDATE.finditer(text)]
    for index, begin in enumerate(updates):
        # The arguments end at the first `)`, the next update call or the window: each
        # character is read for one update call only.
        limit = min(
            begin + _UPDATE_WINDOW, updates[index + 1] if index + 1 < len(updates) else len(text)
        )
        close = text.find(")", begin, limit)
        end = close if close != -1 else limit
        for pair in _ENV_UPDATE_PAIR.finditer(text, begin, end):
            name = pair.group("n1") or pair.group("n2")
            yield name, pair.group("value"), *pair.span("value"), "os.environ.update(…)"
    for magic in ENV_MAGIC.finditer(text):
        group = "qvalue" if magic.group("qvalue") is not None else "value"
        yield magic.group("n1"), magic.group(group), *magic.span(group), "%env"

# `name = value` on one line. The name is bounded and must start a word, so a hostile line
# (100k underscores, `token_token_…`) costs one bounded attempt per word start: linear. Whether
# the name is credential-like is decided afterwards (``secret_name``), not inside the regex.
GENERIC_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]{1,100})[\"']?[ \t]*(?:=>|=|:)[ \t]*"
    r"(?:\"([^\"'\n]{8,200})\"|'([^\"'\n]{8,200})'|([^\s\"'#,;{}()\[\]]{8,200}))"
)

# `Key=Value;Key=Value` (a connection string): its secret parts have patterns of their own,
# the first component (SubscriptionId=…, DefaultEndpointsProtocol=https) is no credential.
_KEY_VALUE_LIST = re.compile(r"^[A-Za-z][A-Za-z0-9_]*=[^=]")

# `os.environ.get("X", "literal")` / `os.getenv("X", "literal")`: the fallback ships the secret.
ENV_FALLBACK = re.compile(
    r"(?:os\.environ\.get|os\.getenv|environ\.get)\(\s*[\"']([A-Za-z0-9_]+)[\"']\s*,\s*"
    r"(\"|')([^\"'\n]{8,200})\2"
)

_PLACEHOLDER = re.compile(
    r"""(?ix)
    ^(?:
        <[^>]*> | \$\{[^}]*\} | \$\([^)]*\) | \{\{[^}]*\}\} | %\([^)]*\)s | \$[A-Z_][A-Z0-9_]*
      | \{[A-Za-z_][A-Za-z0-9_.]{0,60}\}
      | .*(?:your|my)[_-]?(?:token|key|secret|api|password) .*
      | .*(?:placeholder|changeme|change[_-]me|replace[_-]?me|example|dummy|sample|redacted|
             fake|foobar|insert|todo|not[_-]?a[_-]?real|xxxx|\*\*\*\*|\.\.\.) .*
      | (?:none|null|true|false|undefined|secret|password|token)
    )$
    """
)

# A value that is plainly a file name or a path says where a credential is kept, not what it
# is (`credentials = "service-account.json"`, `client_secret: ./secrets/sp.yaml`). A dot
# inside a token (`abc.def…`) is no extension: only these endings count, after a stem of
# file-name characters, or a value that starts like a relative or home path.
_FILE_EXTENSIONS = frozenset(
    {"json", "pem", "key", "yaml", "yml", "txt", "env", "p12", "pfx", "cfg", "ini", "conf",
     "crt", "cer", "der", "jks", "keystore", "toml", "properties", "xml", "gpg", "asc", "ppk"}
)
_PATH_START = ("~/", "./", "../", "~\\", ".\\", "..\\")
# One character class under one quantifier, matched whole: linear on any input.
_FILE_STEM = re.compile(r"[\w.~/\\:@-]+")


def looks_like_file_name(value: str) -> bool:
    """Whether ``value`` is plainly a file name or path (``creds.json``, ``~/.config/x``)."""
    text = value.strip().strip("\"'")
    if text.startswith(_PATH_START):
        return True
    stem, dot, extension = text.rpartition(".")
    return bool(
        dot and extension.lower() in _FILE_EXTENSIONS and _FILE_STEM.fullmatch(stem)
    )


_CODE_REFERENCE = re.compile(
    r"^(?:os\.environ|os\.getenv|environ|getenv|self\.|args\.|config\.|settings\.|request\.|"
    r"secrets\.|vault\.|keyring\.|input\(|getpass)"
)


def shannon_entropy(value: str) -> float:
    if not value:
        return 0.0
    counts: dict[str, int] = {}
    for char in value:
        counts[char] = counts.get(char, 0) + 1
    length = len(value)
    return -sum(c / length * math.log2(c / length) for c in counts.values())


def is_placeholder(value: str) -> bool:
    stripped = value.strip().strip("\"'")
    if len(set(stripped.lower())) <= 2:  # "aaaaaaaa", "00000000", "xxxxxxxx"
        return True
    return bool(_PLACEHOLDER.match(stripped)) or bool(_CODE_REFERENCE.match(stripped))


def _looks_random(value: str, minimum: float) -> bool:
    return shannon_entropy(value) >= minimum


def find_secrets(text: str, *, quoted_only: bool = False) -> Iterator[SecretMatch]:
    """Yield each credential-looking value in ``text`` once (most specific rule wins).

    ``quoted_only`` is set for source code, where an unquoted right-hand side is an
    expression (``token = load_token()``) rather than a literal.
    """
    taken = _Spans()
    overlaps = taken.overlaps
    for pattern in PATTERNS:
        for match in pattern.regex.finditer(text):
            value = match.group(pattern.group)
            start, end = match.span(pattern.group)
            if overlaps(start, end):
                continue
            if pattern.check_placeholder and is_placeholder(value):
                continue
            if pattern.min_entropy and not _looks_random(value, pattern.min_entropy):
                continue
            if pattern.not_after and pattern.not_after.search(text, max(0, start - 40), start):
                continue
            taken.add(start, end)
            yield SecretMatch(pattern.rule_id, pattern.label, value, start, end, pattern.confidence)

    if "env" in text:  # environ, putenv, %env: most files have none of them
        for name, value, start, end, how in _environment_writes(text):
            if not ENV_SECRET_NAME.search(name) or overlaps(start, end):
                continue
            # A brace is a template slot (`"{token}"` in code that writes code), never part
            # of a token's alphabet.
            if len(value) < 8 or " " in value.strip() or "{" in value or is_placeholder(value):
                continue
            if looks_like_file_name(value) or not _looks_random(value, 3.0):
                continue
            taken.add(start, end)
            yield SecretMatch(
                "QG-SEC-018",
                f"{name} written into the process environment",
                value,
                start,
                end,
                Confidence.HIGH,
                advice=_env_advice(name, how),
            )

    for match in ENV_FALLBACK.finditer(text):
        value = match.group(3)
        start, end = match.span(3)
        if overlaps(start, end) or is_placeholder(value) or not _looks_random(value, 3.0):
            continue
        if looks_like_file_name(value):
            continue  # `os.getenv("GOOGLE_APPLICATION_CREDENTIALS", "sa.json")`: a path
        taken.add(start, end)
        yield SecretMatch(
            "QG-SEC-016",
            f"literal fallback for environment variable {match.group(1)}",
            value,
            start,
            end,
            Confidence.HIGH,
        )

    position = 0
    while (assignment := GENERIC_ASSIGNMENT.search(text, position)) is not None:
        name = assignment.group(1)
        group = assignment.lastindex or 4
        value = assignment.group(group)
        start, end = assignment.span(group)
        if not secret_name(name):
            # `args: --token=…`: the value of a plain assignment may hold a credential one.
            position = start
            continue
        position = end
        if quoted_only and group == 4:
            continue
        if overlaps(start, end) or is_placeholder(value):
            continue
        if " " in value.strip() or _KEY_VALUE_LIST.match(value) or looks_like_file_name(value):
            continue
        if not _looks_random(value, 3.3):
            continue
        taken.add(start, end)
        yield SecretMatch(
            "QG-SEC-013",
            f"credential-like value assigned to {name}",
            value,
            start,
            end,
            Confidence.MEDIUM,
        )


class _Spans:
    """Non-overlapping spans already reported, kept sorted so each check is a bisection
    (a line with thousands of candidates must not cost a quadratic scan)."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        index = bisect_right(self._starts, start) - 1
        if index >= 0 and self._ends[index] > start:
            return True
        following = index + 1
        return following < len(self._starts) and self._starts[following] < end

    def add(self, start: int, end: int) -> None:
        index = bisect_right(self._starts, start)
        self._starts.insert(index, start)
        self._ends.insert(index, end)
