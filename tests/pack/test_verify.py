"""`qgov pack keygen` and `qgov pack verify`: hashes, signatures, and hostile packs."""

from __future__ import annotations

import json
import os
import shutil
import stat
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from tests.pack.helpers import project, qgov


@pytest.fixture(scope="module")
def signed_pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A signed pack of the small project, and the signer's key file (public key at .pub)."""
    from scanner.cli import main

    base = tmp_path_factory.mktemp("signed")
    key = base / "keys" / "pack-signing"
    key.parent.mkdir()
    assert main(["pack", "keygen", "--out", str(key)]) == 0
    root = project(base / "repo")
    assert main(["report", str(root), "--out", str(base / "pack"), "--no-engines",
                 "--sign-key", str(key)]) == 0
    return base / "pack", key


def _copy(pack: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(pack, target, symlinks=True)
    return target


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "k"
    code, out, err = qgov(capsys, "pack", "keygen", "--out", str(key))
    assert code == 0
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    public = serialization.load_pem_public_key((tmp_path / "k.pub").read_bytes())
    assert isinstance(public, ed25519.Ed25519PublicKey)
    assert len(out.split(": ")[1].strip()) == 64  # the key id
    before = key.read_bytes()
    code, _, err = qgov(capsys, "pack", "keygen", "--out", str(key))
    assert code == 2 and "never overwrites" in err
    assert key.read_bytes() == before


def test_an_intact_signed_pack_verifies_with_the_trusted_key(
    signed_pack: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pack, key = signed_pack
    code, out, _ = qgov(capsys, "pack", "verify", str(pack), "--public-key", f"{key}.pub")
    assert code == 0, out
    assert out.startswith("INTACT") and "valid, by the trusted key" in out
    code, out, _ = qgov(capsys, "pack", "verify", str(pack))
    assert code == 0
    assert "NOT checked against a trusted key" in out and "proves nothing" in out


def test_changed_missing_and_extra_files_are_named(
    signed_pack: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = _copy(signed_pack[0], tmp_path)
    with open(pack / "control-matrix.csv", "r+b") as handle:  # same size, one byte changed
        first = handle.read(1)
        handle.seek(0)
        handle.write(b"X" if first != b"X" else b"Y")
    (pack / "junit.xml").unlink()
    (pack / "evidence").mkdir(exist_ok=True)
    (pack / "evidence" / "planted.txt").write_text("not from qgov\n")
    code, out, _ = qgov(capsys, "pack", "verify", str(pack), "--format", "json")
    assert code == 1
    result = json.loads(out)
    assert result["verdict"] == "ALTERED"
    assert result["changed"] == ["control-matrix.csv"]
    assert result["missing"] == ["junit.xml"]
    assert result["extra"] == ["evidence/planted.txt"]


def test_a_rewritten_manifest_breaks_the_signature(
    signed_pack: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack, key = signed_pack
    copy = _copy(pack, tmp_path)
    (copy / "findings.json").write_text("{}\n")
    manifest = json.loads((copy / "manifest.json").read_text())
    for entry in manifest["files"]:  # the forger updates the hash of what they changed
        if entry["path"] == "findings.json":
            entry["sha256"] = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
            entry["size"] = 3
    (copy / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    code, out, _ = qgov(capsys, "pack", "verify", str(copy), "--public-key", f"{key}.pub")
    assert code == 1
    assert "signature: INVALID: the signature does not match manifest.json" in out


def test_a_pack_signed_by_another_key_fails_against_the_trusted_one(
    signed_pack: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack, _ = signed_pack
    qgov(capsys, "pack", "keygen", "--out", str(tmp_path / "other"))
    code, out, _ = qgov(capsys, "pack", "verify", str(pack), "--public-key",
                        str(tmp_path / "other.pub"))
    assert code == 1
    assert "not with the trusted key" in out
    # An unsigned pack checked against a key is not intact either.
    unsigned = _copy(pack, tmp_path)
    (unsigned / "manifest.sig").unlink()
    code, out, _ = qgov(capsys, "pack", "verify", str(unsigned), "--public-key",
                        str(tmp_path / "other.pub"))
    assert code == 1 and "MISSING" in out


def test_unusable_keys_are_clear_errors(
    signed_pack: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path / "repo")
    encrypted = tmp_path / "encrypted.pem"
    encrypted.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pass phrase")))
    rsa_key = tmp_path / "rsa.pem"
    rsa_key.write_bytes(rsa.generate_private_key(public_exponent=65537, key_size=2048)
                        .private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    for key, message in ((encrypted, "the key is encrypted"), (rsa_key, "signed with Ed25519")):
        code, _, err = qgov(capsys, "report", str(root), "--out", str(tmp_path / "p"),
                            "--no-engines", "--sign-key", str(key))
        assert code == 2 and message in err and err.count("\n") == 1
        assert not (tmp_path / "p").exists()
    code, _, err = qgov(capsys, "pack", "verify", str(signed_pack[0]), "--public-key",
                        str(rsa_key))
    assert code == 2 and "not a PEM public key" in err


def test_a_symlink_in_the_pack_is_reported_not_followed(
    signed_pack: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = _copy(signed_pack[0], tmp_path)
    outside = tmp_path / "outside.csv"
    outside.write_bytes((pack / "control-matrix.csv").read_bytes())
    (pack / "control-matrix.csv").unlink()
    (pack / "control-matrix.csv").symlink_to(outside)  # same bytes, through a link
    (pack / "evidence").mkdir(exist_ok=True)
    (pack / "evidence" / "etc").symlink_to("/etc")
    code, out, _ = qgov(capsys, "pack", "verify", str(pack))
    assert code == 1
    assert "changed: control-matrix.csv (a symlink (not followed))" in out
    assert "unsafe:  evidence/etc: a symlink (not followed)" in out


def test_a_manifest_naming_paths_outside_the_pack_is_refused(
    signed_pack: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for hostile in ("../outside.txt", "/etc/passwd", "a/../../b"):
        pack = _copy(signed_pack[0], tmp_path / hostile.replace("/", "_"))
        manifest = json.loads((pack / "manifest.json").read_text())
        manifest["files"].append({"path": hostile, "sha256": "0" * 64, "size": 1})
        (pack / "manifest.json").write_text(json.dumps(manifest))
        code, out, _ = qgov(capsys, "pack", "verify", str(pack))
        assert code == 1, hostile
        assert "manifest.json: unusable (files." in out and "not a plain relative path" in out


def _zip(pack: Path, target: Path, extra: list[tuple[zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(target, "w") as zf:
        for path in sorted(pack.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(pack).as_posix())
        for info, data in extra:
            zf.writestr(info, data)
    return target


def test_zip_slip_and_symlink_entries_are_reported_never_extracted(
    signed_pack: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = zipfile.ZipInfo("evidence/link")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    hostile = _zip(signed_pack[0], tmp_path / "hostile.zip", [
        (zipfile.ZipInfo("../../escaped.txt"), b"slip"),
        (zipfile.ZipInfo("/abs.txt"), b"abs"),
        (link, b"/etc/passwd"),
    ])
    code, out, _ = qgov(capsys, "pack", "verify", str(hostile))
    assert code == 1
    assert "../../escaped.txt: a path climbing out with .." in out
    assert "/abs.txt: an absolute or Windows path" in out
    assert "evidence/link: a symlink entry" in out
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert not Path("/abs.txt").exists()
    clean = _zip(signed_pack[0], tmp_path / "clean.zip", [])
    code, out, _ = qgov(capsys, "pack", "verify", str(clean), "--public-key",
                        f"{signed_pack[1]}.pub")
    assert code == 0, out


def test_a_huge_planted_file_is_not_read_to_its_end(
    signed_pack: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = _copy(signed_pack[0], tmp_path)
    with open(pack / "junit.xml", "ab") as handle:  # a sparse 4 GiB tail
        handle.truncate(4 * 1024**3)
    code, out, _ = qgov(capsys, "pack", "verify", str(pack))
    assert code == 1 and "changed: junit.xml (size 4,294,967,296" in out


def test_not_a_pack_is_exit_2_or_altered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = qgov(capsys, "pack", "verify", str(tmp_path / "missing"))
    assert code == 2 and "no such file or directory" in err
    (tmp_path / "empty").mkdir()
    code, out, _ = qgov(capsys, "pack", "verify", str(tmp_path / "empty"))
    assert code == 1 and "manifest.json: missing" in out
