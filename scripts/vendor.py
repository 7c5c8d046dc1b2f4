"""Vendor the console's front-end libraries from the npm registry into the package.

Each library is pinned in ``liveblog/static/vendor/<name>/VENDOR.json``: its npm version, the
tarball's address and its ``integrity`` (the registry's SHA-512), and which files of the
tarball are kept, each with its SHA-256. ``scripts/vendor`` downloads the tarball, refuses it
unless its SHA-512 is the pinned one, and writes the kept files byte for byte; ``--check``
only compares what is in the package with the pins (the test suite does the same). The files
are committed, so a machine with only Python needs neither npm nor the network to run the app,
and the app serves them itself (no third-party host).

Usage: scripts/vendor [--check]  (a new version: edit VENDOR.json's version and tarball, run
``scripts/vendor --pin``, which takes the registry's integrity and records the new hashes.)
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "liveblog" / "static" / "vendor"


def locks() -> list[Path]:
    return sorted(VENDOR.glob("*/VENDOR.json"))


def check(lock: Path) -> list[str]:
    """What differs between the kept files and their pins (nothing: all is well)."""
    pins = json.loads(lock.read_text())
    problems = []
    for name, digest in pins["files"].items():
        path = lock.parent / Path(name).name
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"{path} is not the file of {pins['package']}@{pins['version']}")
    return problems


def fetch(lock: Path, pin: bool) -> None:
    pins = json.loads(lock.read_text())
    with urllib.request.urlopen(pins["tarball"], timeout=60) as answer:  # noqa: S310
        tarball = answer.read()
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if pin:
        registry = f"https://registry.npmjs.org/{pins['package']}/{pins['version']}"
        with urllib.request.urlopen(registry, timeout=60) as answer:  # noqa: S310
            pins["integrity"] = json.load(answer)["dist"]["integrity"]
    if integrity != pins["integrity"]:
        raise SystemExit(f"{pins['tarball']}: integrity {integrity} is not the pinned"
                         f" {pins['integrity']}")
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        for name in pins["files"]:
            member = archive.extractfile(name)
            if member is None:
                raise SystemExit(f"{pins['tarball']} has no {name}")
            data = member.read()
            (lock.parent / Path(name).name).write_bytes(data)
            pins["files"][name] = hashlib.sha256(data).hexdigest()
    if pin:
        lock.write_text(json.dumps(pins, indent=2) + "\n")
    print(f"vendored {pins['package']}@{pins['version']} into {lock.parent}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, download nothing")
    parser.add_argument("--pin", action="store_true", help="take the registry's integrity"
                        " and record the new files' hashes")
    args = parser.parse_args()
    problems = []
    for lock in locks():
        if args.check:
            problems += check(lock)
        else:
            fetch(lock, args.pin)
            problems += check(lock)
    for problem in problems:
        print(problem, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
