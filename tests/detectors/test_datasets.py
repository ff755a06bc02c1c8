"""Personal data in committed datasets and logs (QG-DAT-001): what counts as a data file,
what is personal data in one (and the numbers that are not), and the sampling limit."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from scanner.classify import classify
from scanner.detectors.datasets import SAMPLE_CHARS, SAMPLE_LINES, dataset_issues, sample
from scanner.detectors.pii import scan_personal_data
from scanner.detectors.secrets import SecretsDetector
from scanner.model import Confidence, FileKind, Finding, Severity
from tests.conftest import IONQ_KEY
from tests.helpers import DATA, SAMPLES, findings, located, source, source_at

DATASETS = DATA / "datasets"


def scan(name: str, text: str) -> list[Finding]:
    return findings(SecretsDetector(), source(text, name))


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("data/patients.csv", FileKind.DATASET),
        ("exports/visits.tsv", FileKind.DATASET),
        ("events.jsonl", FileKind.DATASET),
        ("stream/events.ndjson", FileKind.DATASET),
        ("logs/app.log", FileKind.DATASET),
        ("logs/app.log.3", FileKind.DATASET),
        ("slurm-1234.out", FileKind.DATASET),
        ("db/prod.dump", FileKind.DATASET),
        ("Data/raw/notes.txt", FileKind.DATASET),
        ("outputs/run-7.txt", FileKind.DATASET),
        ("run_log.txt", FileKind.DATASET),
        ("crm-export.txt", FileKind.DATASET),
        ("CHANGELOG.txt", FileKind.OTHER_TEXT),
        ("docs/notes.txt", FileKind.OTHER_TEXT),
        ("LICENSE.txt", FileKind.OTHER_TEXT),
        ("data/requirements.txt", FileKind.REQUIREMENTS),
        ("data/results.json", FileKind.JSON),
        ("logs/config.yaml", FileKind.YAML),
    ],
)
def test_datasets_and_logs_have_their_own_kind(path: str, kind: FileKind) -> None:
    assert classify(path, "a,b\n1,2\n") is kind


def test_one_finding_per_kind_of_personal_data_at_its_first_line() -> None:
    found = findings(SecretsDetector(), source_at(DATASETS, "patients-export.csv"))
    assert located(found) == [("QG-DAT-001", 2)] * 4
    by_kind = {f.message.split("distinct ", 1)[1].split(" ", 1)[0]: f for f in found}
    assert set(by_kind) == {"email", "SSN-like", "payment", "phone"}
    assert "3 distinct email address(es)" in by_kind["email"].message
    assert "2 distinct SSN-like number(s) in 3 places" in by_kind["SSN-like"].message
    assert "3 distinct payment card number(s)" in by_kind["payment"].message
    assert "sampled" not in by_kind["email"].message
    text = (DATASETS / "patients-export.csv").read_text()
    values = [cell for row in text.splitlines()[1:] for cell in row.split(",")[1:6]]
    for finding in found:
        assert finding.severity is Severity.HIGH and "DAT-02" in finding.control_ids
        assert finding.domain is not None and finding.domain.value == "data"
        assert [v for v in values if v[:5] in finding.message + (finding.evidence or "")] == []
        assert finding.evidence and "chars, sha256:" in finding.evidence  # masked
    assert by_kind["email"].confidence is Confidence.HIGH
    assert by_kind["phone"].confidence is Confidence.MEDIUM
    assert "maria.lopez@clinic-mail.org" in text  # the data really is there


def test_version_strings_dates_uuids_ids_numbers_and_shas_are_not_personal_data() -> None:
    assert findings(SecretsDetector(), source_at(DATASETS, "run-metadata.csv")) == []


def test_a_column_of_real_card_numbers_is_not_taken_for_ids() -> None:
    cards = ["4539148803436467", "5555555555554444", "4111111111111111", "378282246310005"]
    ids = [4000000000000001, 4000000000000003, 4000000000000004, 4000000000000005]  # no Luhn
    text = "order,card\n" + "".join(f"{i},{c}\n" for i, c in zip(ids, cards, strict=True))
    (card,) = scan("orders.csv", text)
    assert "4 distinct payment card number(s)" in card.message and card.line == 2


def test_fingerprint_is_the_kind_not_the_rows() -> None:
    first = scan("logs/app.log", "boot\nsent receipt to maria.lopez@clinic-mail.org\n")
    moved = scan("logs/app.log", "boot\n" * 30 + "mail to t.becker@fastmail.example.net\n")
    assert [f.line for f in first] == [2] and [f.line for f in moved] == [31]
    assert first[0].fingerprint == moved[0].fingerprint


def test_secrets_in_logs_are_still_found() -> None:
    found = scan("logs/deploy.log", f"exporting IONQ_API_KEY={IONQ_KEY}\n")
    assert [f.rule_id for f in found] == ["QG-SEC-008"]


def test_the_sample_datasets() -> None:
    # Both files under samples/datasets/ are fabricated and say so in their header: the
    # calibration targets are synthetic, and the "regulated" cohort is bucketed aggregates
    # (age bands, features, counts) labelled regulated for the governed job's data gate.
    # Neither holds a person's data, so neither is a finding.
    for name in ("bell-calibration.csv", "cohort-features-regulated.csv"):
        data = source_at(SAMPLES / "datasets", name)
        assert data.kind is FileKind.DATASET
        assert findings(SecretsDetector(), data) == []


# --- sampling ----------------------------------------------------------------------------------


def _seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def test_big_files_are_sampled_and_the_message_says_so() -> None:
    row = "r-0001,0.5,0.5,0.05,2024-01-15\n"
    early = "r-0000,maria.lopez@clinic-mail.org\n" + row * 400_000  # ~12 MB
    late = row * (SAMPLE_LINES + 10) + "r-9999,maria.lopez@clinic-mail.org\n"
    # The personal-data check reads the sample only, whatever the file's size.
    big = source(early, "data/big.csv")
    assert _seconds(lambda: list(dataset_issues(big))) < 0.5
    # (the whole detector on a smaller file: its secret search still reads every line)
    (finding,) = findings(SecretsDetector(), source(early[: 40 * SAMPLE_LINES * 8], "b.csv"))
    assert finding.line == 1
    assert f"first {SAMPLE_LINES:,} line(s) read" in finding.message
    assert "sampled" in finding.message
    assert scan("data/late.csv", late) == []  # past the sample: not read


def test_sample_limits() -> None:
    lines = "".join(f"{n}\n" for n in range(SAMPLE_LINES * 2))
    assert sample(lines).count("\n") == SAMPLE_LINES
    one_line = "x" * (SAMPLE_CHARS * 4)
    assert len(sample(one_line)) == SAMPLE_CHARS
    wide = ("y" * 1000 + "\n") * 1000
    cut = sample(wide)
    assert len(cut) <= SAMPLE_CHARS and cut.endswith("\n")
    assert sample("a\nb") == "a\nb"


@pytest.mark.parametrize(
    "hostile",
    [
        "1 " * 50_000,
        "1-" * 50_000,
        "4" * 100_000,
        "a@" * 50_000,
        "x@" + "a." * 50_000,
        ("a" * 60 + "@b.") * 1_600,
        "(415) " * 16_000,
        "+1 " * 33_000,
        "123-45-" * 14_000,
        "-4539 " * 16_000,
    ],
)
def test_personal_data_patterns_are_linear_on_hostile_lines(hostile: str) -> None:
    assert _seconds(lambda: scan_personal_data(hostile, strict=True)) < 0.5
    assert _seconds(lambda: scan_personal_data(hostile)) < 0.5
