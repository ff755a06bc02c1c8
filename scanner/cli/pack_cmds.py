"""`qgov pack keygen|verify|diff`: keys for signing packs, checking a pack, comparing two.

Exit codes:
- keygen: 0 written; 2 the key file exists or cannot be written.
- verify: 0 intact (every hash matches, no file missing or extra, the signature valid when
  there is one or a key was given); 1 altered; 2 the pack or the key cannot be read.
- diff: 0 no change; 1 changes (so a CI step can flag drift); 2 a pack cannot be read or fails
  verification (an altered pack is never compared).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.cli.exits import EXIT_ERROR, EXIT_FAIL, EXIT_OK
from scanner.model import printable
from scanner.pack.diff import PackDiffError, diff_packs
from scanner.pack.signing import SigningKeyError, load_public_key, write_new_key
from scanner.pack.verify import PackSource, PackUnreadable, Verification, verify_pack


def _error(message: str) -> int:
    print(f"qgov: error: {printable(message, path=False)}", file=sys.stderr)
    return EXIT_ERROR


def cmd_keygen(args: argparse.Namespace) -> int:
    path = Path(args.out)
    try:
        public, key_id = write_new_key(path)
    except SigningKeyError as exc:
        return _error(str(exc))
    print(f"qgov: wrote the private key {path} (mode 0600; keep it secret, e.g. in your CI's "
          f"secret store) and the public key {public}", file=sys.stderr)
    print(f"key id (SHA-256 of the public key): {key_id}")
    return EXIT_OK


def _trusted(path: str | None) -> ed25519.Ed25519PublicKey | None | str:
    if path is None:
        return None
    try:
        return load_public_key(Path(path))
    except SigningKeyError as exc:
        return str(exc)


def cmd_verify(args: argparse.Namespace) -> int:
    trusted = _trusted(args.public_key)
    if isinstance(trusted, str):
        return _error(trusted)
    try:
        with PackSource(Path(args.pack)) as source:
            result = verify_pack(source, trusted)
    except PackUnreadable as exc:
        return _error(str(exc))
    _print(result, args.format)
    return EXIT_OK if result.intact else EXIT_FAIL


def _print(result: Verification, output_format: str) -> None:
    if output_format == "json":
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
    else:
        print("\n".join(result.lines()))


def cmd_diff(args: argparse.Namespace) -> int:
    trusted = _trusted(args.public_key)
    if isinstance(trusted, str):
        return _error(trusted)
    try:
        with PackSource(Path(args.old)) as old, PackSource(Path(args.new)) as new:
            for label, source in (("OLD", old), ("NEW", new)):
                checked = verify_pack(source, trusted)
                if not checked.intact:
                    print("\n".join(checked.lines()), file=sys.stderr)
                    return _error(f"{label} pack {args.old if label == 'OLD' else args.new} "
                                  "fails verification; an altered pack is not compared")
            result = diff_packs(old, new)
    except (PackUnreadable, PackDiffError) as exc:
        return _error(str(exc))
    if args.format == "json":
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
    else:
        print("\n".join(result.lines()))
    return EXIT_FAIL if result.changed else EXIT_OK
