"""The vendored front-end libraries are byte for byte the files pinned in their VENDOR.json
(npm version, tarball integrity, each file's SHA-256): nothing edited by hand, nothing missing,
and the app serves them itself."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def vendor_module():
    spec = importlib.util.spec_from_file_location("vendor", SCRIPTS / "vendor.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vendored_files_match_their_pins():
    vendor = vendor_module()
    locks = vendor.locks()
    assert [lock.parent.name for lock in locks] == ["quill"]
    for lock in locks:
        pins = json.loads(lock.read_text())
        assert pins["integrity"].startswith("sha512-") and pins["license"]
        assert vendor.check(lock) == []


def test_the_console_loads_the_editor_from_this_service(client):
    page = client.get("/console").get_data(as_text=True)
    assert "/vendor/quill/quill.js" in page and "/vendor/quill/quill.snow.css" in page
    src = page.split('<script src="')[1].split('"')[0]
    assert src.startswith("/assets/")  # content-hashed, immutable, same origin
    with client.get(src) as served:
        assert served.status_code == 200 and b"Quill" in served.get_data()[:100_000]
