"""The parsers of `qgov pack keygen|verify|diff`."""

from __future__ import annotations

import argparse

from scanner.cli.parsers import handler


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pack = sub.add_parser("pack", help="sign, verify and compare audit packs")
    actions = pack.add_subparsers(dest="pack_command", metavar="{keygen,verify,diff}")
    actions.required = True
    keygen = actions.add_parser(
        "keygen", help="make an Ed25519 key pair for signing packs",
        description="Write a new Ed25519 private key to KEYFILE (mode 0600) and its public key "
        "to KEYFILE.pub. Neither may exist. Exit 0 written, 2 not.")
    keygen.add_argument("--out", required=True, metavar="KEYFILE")
    keygen.set_defaults(handler=handler("pack_cmds", "cmd_keygen"))

    verify = actions.add_parser(
        "verify", help="check every file of a pack against its manifest and signature",
        description="Check every file's SHA-256 and size against manifest.json and name every "
        "changed, missing and extra file; check the signature against --public-key. Nothing "
        "in the pack is followed or extracted. Exit 0 intact, 1 altered, 2 unreadable.")
    verify.add_argument("pack", metavar="DIR|ZIP")
    verify.add_argument("--public-key", metavar="FILE",
                        help="the signer's public key (PEM), obtained from the signer, not from "
                        "the pack")
    verify.add_argument("--format", choices=("text", "json"), default="text")
    verify.set_defaults(handler=handler("pack_cmds", "cmd_verify"))

    diff = actions.add_parser(
        "diff", help="what changed between two audit packs",
        description="Verify both packs, then list new and resolved findings (by fingerprint, "
        "per repository), framework requirements and controls whose status changed, "
        "exceptions added, removed or expired, attestations added, removed or lapsed, "
        "catalog changes and self-test checks that changed. Exit 0 no change, 1 changes, "
        "2 a pack cannot be read or fails verification.")
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.add_argument("--public-key", metavar="FILE",
                      help="check both packs' signatures against this key")
    diff.add_argument("--format", choices=("text", "json"), default="text")
    diff.set_defaults(handler=handler("pack_cmds", "cmd_diff"))
