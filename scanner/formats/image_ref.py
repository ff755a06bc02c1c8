"""Container image references (``registry/name:tag@sha256:…``) split into their parts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageRef:
    name: str
    tag: str | None
    digest: str | None

    @property
    def display(self) -> str:
        shown = self.name + (f":{self.tag}" if self.tag else "")
        return shown + ("@sha256:…" if self.digest else "")


def parse_image(reference: str) -> ImageRef:
    reference = reference.strip()
    name, _, digest = reference.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = None
    if ":" in last:
        name, _, tag = name.rpartition(":")
    return ImageRef(name, tag or None, digest or None)
