"""The secrets detector on small real payloads: what must flag, what must not."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from scanner.detectors.secret_patterns import find_secrets, looks_like_file_name
from scanner.detectors.secrets import SecretsDetector
from tests.conftest import (
    ALL_SECRETS,
    AWS_KEY_ID,
    AWS_SECRET,
    DWAVE_TOKEN,
    GENERIC,
    IBM_KEY,
    IONQ_KEY,
    LEGACY_TOKEN,
    STORAGE_KEY,
)
from tests.helpers import Located, findings, located, source


def scan(name: str, text: str) -> list[Located]:
    return located(findings(SecretsDetector(), source(text, name)))


@pytest.mark.parametrize(
    ("name", "payload", "rule"),
    [
        ("a.py", f'service = QiskitRuntimeService(channel="ibm_quantum_platform", token="{IBM_KEY}")', "QG-SEC-003"),
        ("a.py", f'QiskitRuntimeService.save_account(token="{IBM_KEY}", overwrite=True)', "QG-SEC-003"),
        ("a.py", f'IBMQ.save_account("{LEGACY_TOKEN}")', "QG-SEC-002"),
        ("a.py", f'IBMQ.enable_account("{IBM_KEY}")', "QG-SEC-003"),
        ("a.py", f'IBM_CLOUD_API_KEY = "{IBM_KEY}"', "QG-SEC-001"),
        (".env", f"QISKIT_IBM_TOKEN={IBM_KEY}", "QG-SEC-001"),
        (".env", f"IONQ_API_KEY={IONQ_KEY}", "QG-SEC-008"),
        ("a.py", f'provider = IonQProvider("{IONQ_KEY}")', "QG-SEC-008"),
        ("dwave.conf", f"token = {DWAVE_TOKEN}", "QG-SEC-009"),
        ("a.py", f'aws_access_key_id="{AWS_KEY_ID}"', "QG-SEC-004"),
        ("creds", f"aws_secret_access_key = {AWS_SECRET}", "QG-SEC-005"),
        ("s.yaml", f"conn: DefaultEndpointsProtocol=https;AccountName=q;AccountKey={STORAGE_KEY};", "QG-SEC-007"),
        ("a.py", f'os.environ.get("QISKIT_IBM_TOKEN", "{GENERIC}")', "QG-SEC-016"),
        ("settings.yaml", f"client_secret: {GENERIC}", "QG-SEC-013"),
        ("Dockerfile", f"ENV IONQ_API_KEY={IONQ_KEY}", "QG-SEC-008"),
        ("main.tf", f'  dsn = "postgres://qjobs:{GENERIC[:12]}@results-db.internal:5432/jobs"', "QG-SEC-017"),
        ("k8s.yaml", f"  REDIS_URL: redis://:{GENERIC[:10]}@cache:6379/0", "QG-SEC-017"),
        ("a.py", "-----BEGIN RSA PRIVATE KEY-----\n" + "A" * 8 + GENERIC * 3 + "\n-----END RSA PRIVATE KEY-----", "QG-SEC-012"),
    ],
)
def test_real_looking_credentials_are_flagged(name: str, payload: str, rule: str) -> None:
    found = [r for r, _ in scan(name, payload) if r != "QG-SEC-015"]  # save_account: own rule
    assert found == [rule]


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("a.py", 'service = QiskitRuntimeService(channel="ibm_quantum_platform", token="<your-token>")'),
        ("a.py", 'token = os.environ["QISKIT_IBM_TOKEN"]'),
        ("a.py", 'dsn = f"postgresql://{user}:{password}@{host}/jobs"'),
        ("a.yaml", "url: postgres://app:${DB_PASSWORD}@db/jobs"),
        ("a.yaml", "broker: amqp://guest:guest@localhost:5672//"),
        ("a.md", "postgres://user:<password>@host/db"),
        ("a.py", 'token = os.environ.get("QISKIT_IBM_TOKEN")'),
        ("a.py", 'token = os.getenv("IONQ_API_KEY", "")'),
        ("a.py", "api_key = load_key_from_vault(name)"),
        (".env", "IONQ_API_KEY=${IONQ_API_KEY}"),
        (".env", "QISKIT_IBM_TOKEN=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
        ("c.yaml", "password: changeme-please"),
        ("c.yaml", "token: '{{ vault_token }}'"),
        ("a.py", 'template = {"client_secret": "{client_secret}"}'),  # a str.format slot
        ("a.py", "QiskitRuntimeService.save_account(token=token)"),  # reported by QG-SEC-015 only
        ("README.md", "Set QISKIT_IBM_TOKEN to your API key (44 characters)."),
        ("SHA512SUMS", f"sha512: {LEGACY_TOKEN}  qiskit-2.1.0.tar.gz"),
        ("lock.json", f'"hash": "{LEGACY_TOKEN}"'),
        (".gitlab-ci.yml", "job:\n  id_tokens:\n    AWS_ID_TOKEN:\n      aud: https://gitlab.example"),
    ],
)
def test_placeholders_and_references_are_not_secrets(name: str, payload: str) -> None:
    assert [r for r, _ in scan(name, payload) if r != "QG-SEC-015"] == []


def test_credential_saving_call_is_reported_even_without_literal() -> None:
    assert scan("a.py", "QiskitRuntimeService.save_account(token=token)") == [("QG-SEC-015", 1)]


def test_committed_qiskit_credentials_file() -> None:
    text = f'{{"default": {{"channel": "ibm_quantum_platform", "token": "{IBM_KEY}"}}}}'
    rules = [r for r, _ in scan("home/.qiskit/qiskit-ibm.json", text)]
    assert "QG-SEC-014" in rules and "QG-SEC-001" in rules


def test_line_numbers_point_at_the_secret() -> None:
    text = f"import os\n\n\nTOKEN = '{IBM_KEY}'\n"
    assert scan("a.py", text) == [("QG-SEC-001", 4)]


def test_evidence_is_masked_and_fingerprint_ignores_line() -> None:
    detector = SecretsDetector()
    (first,) = findings(detector, source(f'IBM_API_KEY = "{IBM_KEY}"', "a.py"))
    (moved,) = findings(detector, source(f'\n\n# moved\nIBM_API_KEY = "{IBM_KEY}"', "a.py"))
    assert IBM_KEY not in (first.evidence or "")
    assert first.evidence and first.evidence.startswith(IBM_KEY[:4])
    assert first.fingerprint == moved.fingerprint and first.line != moved.line


# --- QG-SEC-013: a credential-like name whose value is a file name is a pointer, not a secret


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("a.py", 'credentials = "service-account.json"'),
        ("a.py", 'GOOGLE_CREDENTIALS = "config/gcp-sa-prod-7f3k.json"'),
        ("settings.yaml", "credential: creds.json"),
        ("settings.yaml", "client_secret: ./secrets/client-secret-prod.yaml"),
        ("a.py", 'api_key = "keys/ionq-prod-2026.key"'),
        ("a.py", 'private_key = "/etc/ssl/private/qgov-runner.pem"'),
        ("a.py", 'auth_token = "~/.config/qgov/token-store"'),
        ("a.py", 'secret = "..\\\\certs\\\\signing-key.p12"'),
        (".env", "AZURE_CLIENT_SECRET=deploy/azure-sp-credentials.env"),
        ("a.cfg", "password = db-password-prod.txt"),
        ("a.py", 'credentials_path = "creds.json"'),
        ("a.py", 'sa = os.getenv("GOOGLE_APPLICATION_CREDENTIALS", "config/service-account.json")'),
    ],
)
def test_file_names_in_credential_assignments_are_not_secrets(name: str, payload: str) -> None:
    assert scan(name, payload) == []


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        # A dot inside a token is not a file extension: `abc.def` style keys stay findings.
        ("a.py", f'api_token = "{GENERIC[:14]}.{GENERIC[14:]}"'),
        ("settings.yaml", f"client_secret: {GENERIC[:20]}.{GENERIC[20:26]}"),
        # An extension-like tail that is not a known file extension.
        ("a.py", f'secret = "{GENERIC[:24]}.jsonx"'),
        # A known extension in the middle, random text after it.
        ("a.py", f'password = "{GENERIC[:10]}.json{GENERIC[10:20]}"'),
    ],
)
def test_dotted_tokens_are_still_secrets(name: str, payload: str) -> None:
    assert [r for r, _ in scan(name, payload)] == ["QG-SEC-013"]


def _seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


@pytest.mark.parametrize(
    "hostile",
    ["a/" * 50_000 + "!.json", "a." * 50_000 + "json!", "~" * 100_000, "./" * 50_000],
)
def test_file_name_check_is_linear_on_hostile_values(hostile: str) -> None:
    assert _seconds(lambda: looks_like_file_name(hostile)) < 0.25
    line = "credential_token = " + hostile
    assert _seconds(lambda: list(find_secrets(line))) < 0.5


# --- QG-SEC-018: a credential written into the process environment by code ------------------


@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        (f'os.environ["QISKIT_IBM_TOKEN"] = "{IBM_KEY}"', "QG-SEC-018"),
        (f"os.environ['IONQ_API_KEY']='{IONQ_KEY}'", "QG-SEC-018"),
        (f'os.environ.setdefault("DWAVE_API_TOKEN", "{GENERIC}")', "QG-SEC-018"),
        (f'os.putenv("AWS_SECRET_ACCESS_KEY", "{AWS_SECRET}")', "QG-SEC-018"),
        (f'os.environ.update({{"AWS_SESSION_TOKEN": "{GENERIC}"}})', "QG-SEC-018"),
        (f'os.environ.update(AZURE_CLIENT_SECRET="{GENERIC}", AZURE_TENANT_ID="t")', "QG-SEC-018"),
        (f'os.environ.update(\n    {{\n        "HF_TOKEN": "{GENERIC}",\n    }}\n)', "QG-SEC-018"),
        (f'environ["OPENAI_API_KEY"] = "{GENERIC}"', "QG-SEC-018"),
        (f'os.environ["MY_SERVICE_SECRET"] = "{GENERIC}"', "QG-SEC-018"),
        (f'os.environ.setdefault(\n    "PASQAL_PULSER_ACCESS_TOKEN",\n    "{GENERIC}",\n)',
         "QG-SEC-018"),
        # The value's own shape names it more precisely: the provider's rule reports it.
        (f'os.environ["AZURE_QUANTUM_CONNECTION_STRING"] = "SubscriptionId=s;ApiKey={GENERIC}"',
         "QG-SEC-006"),
        (f'os.environ["DWAVE_API_TOKEN"] = "{DWAVE_TOKEN}"', "QG-SEC-009"),
        (f'os.environ["AWS_ACCESS_KEY_ID"] = "{AWS_KEY_ID}"', "QG-SEC-004"),
    ],
)
def test_credentials_set_into_the_environment_by_code(payload: str, rule: str) -> None:
    text = "import os\nfrom os import environ\n\n" + payload + "\n"
    # reported where the value is (a call may spread over several lines)
    value_line = next(
        number for number, line in enumerate(text.splitlines(), 1)
        if any(secret in line for secret in ALL_SECRETS)
    )
    assert scan("job.py", text) == [(rule, value_line)]


@pytest.mark.parametrize(
    "payload",
    [
        'os.environ["QISKIT_IBM_TOKEN"] = "<your-ibm-quantum-token>"',
        'os.environ["QISKIT_IBM_TOKEN"] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
        'os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"',  # moto's test credentials
        'os.environ["AWS_SESSION_TOKEN"] = ""',
        'os.environ["QISKIT_IBM_TOKEN"] = token',
        'os.environ["QISKIT_IBM_TOKEN"] = getpass.getpass("IBM Quantum token: ")',
        'os.environ["IONQ_API_KEY"] = f"{prefix}{key}"',
        'os.environ["IONQ_API_KEY"] = os.environ["CI_IONQ_KEY"]',
        'os.environ.setdefault("IONQ_API_KEY", os.environ.get("IONQ_KEY", ""))',
        'os.environ.update({"AWS_SESSION_TOKEN": creds.token})',
        'os.environ["QISKIT_IBM_TOKEN"] = "${QISKIT_IBM_TOKEN}"',
        'os.environ["TOKENIZERS_PARALLELISM"] = "false"',
        'os.environ["QISKIT_IBM_INSTANCE"] = "crn:v1:bluemix:public:quantum-computing:us-east:a/b::"',
        'os.environ["AWS_DEFAULT_REGION"] = "eu-west-2"',
        'os.environ["MY_TOKEN_FILE"] = "/run/secrets/token-store.json"',
        'if os.environ["QISKIT_IBM_TOKEN"] == "expected-value-here":\n    pass',
        'os.environ["API_TOKEN"] = "not set yet, ask ops"',
        # code that writes code: a template slot, not a value
        'line = f\'os.environ["QISKIT_IBM_TOKEN"] = "{IBM_KEY}"\'',
        'os.environ.update({"IONQ_API_KEY": "{ionq_key}"})',
    ],
)
def test_environment_writes_that_are_not_committed_credentials(payload: str) -> None:
    assert scan("job.py", "import os\n" + payload + "\n") == []


@pytest.mark.parametrize(
    "hostile",
    [
        "os.environ[" * 9_000,
        'os.environ["' + "A_" * 50_000,
        'os.environ["A_TOKEN"] = "' + "a" * 100_000,
        "os.environ[" + "\n" * 100_000 + '"A_TOKEN"]',
        "environ.update(" * 7_000,
        "os.environ.update(" + '"A_TOKEN": ' * 9_000,
        "os.environ.update(" + "a_" * 50_000,
        'os.environ.setdefault("' + "X_TOKEN" * 14_000,
        "os.putenv(" + " " * 100_000,
        "%env " * 20_000,
        "%env " + "token" * 20_000 + " ",
        "\n%set_env A_TOKEN " * 6_000,
    ],
)
def test_environment_write_patterns_are_linear_on_hostile_lines(hostile: str) -> None:
    assert _seconds(lambda: list(find_secrets(hostile, quoted_only=True))) < 0.5
