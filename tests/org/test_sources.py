"""Reading SOURCES: credentials stripped first, unusable lines recorded, names unique."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner.org.sources import SourcesError, clean_text, read_sources


def test_credentials_are_stripped_and_never_kept(tmp_path: Path) -> None:
    sources = tmp_path / "sources.txt"
    sources.write_text(
        "https://bot:p#ss@git.example.org/a/api.git  # comment\n"
        "https://TOKEN123@git.example.org/b/api.git\n"
        "git@git.example.org:c/tools.git\n", encoding="utf-8")
    found = read_sources(sources)
    assert [s.url for s in found] == [
        "https://git.example.org/a/api.git", "https://git.example.org/b/api.git",
        "git@git.example.org:c/tools.git"]
    assert [s.had_credentials for s in found] == [True, True, False]
    assert len({s.name for s in found}) == 3  # two a/api, b/api: told apart
    assert all("p#ss" not in repr(s) and "TOKEN123" not in repr(s) for s in found)


def test_git_messages_lose_credentials() -> None:
    message = "unable to access 'https://bot:s3cret@host/x.git/': 403"
    assert clean_text(message) == "unable to access 'https://host/x.git/': 403"


def test_unusable_lines_are_recorded_not_fatal(tmp_path: Path) -> None:
    sources = tmp_path / "sources.txt"
    sources.write_text("ext::sh -c id\n--upload-pack=evil\nftp://host/x\nmissing/dir\n")
    found = read_sources(sources)
    assert [s.line for s in found] == [1, 2, 3, 4]
    assert all(s.problem and not s.url for s in found)


def test_hostile_sources_are_refused_or_recorded_never_hang(tmp_path: Path) -> None:
    if hasattr(os, "mkfifo"):  # a pipe as SOURCES must not block the run
        os.mkfifo(tmp_path / "pipe")
        with pytest.raises(SourcesError):
            read_sources(tmp_path / "pipe")
    hostile = tmp_path / "hostile.txt"
    hostile.write_bytes(
        b"https://" + b"a" * 100_000 + b"@host/x.git\n"  # a 100k-character line with userinfo
        + b"/no/such/\xff\xfe/dir\n"  # not UTF-8
        + b"https://host/" + b"x/" * 50_000 + b"\n"  # a very deep path
        + b"#" * 100_000 + b"\n")  # a comment line only
    found = read_sources(hostile)
    assert [s.line for s in found] == [1, 2, 3]
    assert found[0].had_credentials and "a" * 50 not in repr(found[0])
    assert found[1].problem and not found[1].url
    assert all(len(s.shown) <= 300 for s in found)
