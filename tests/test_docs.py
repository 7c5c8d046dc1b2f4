"""The README stays true: every setting and every event type is documented there."""

from __future__ import annotations

from pathlib import Path

from liveblog.codec import REGISTRY
from liveblog.config import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_settings_are_documented():
    for key in SETTINGS:
        assert f"`{key}`" in README, key


def test_event_types_are_documented():
    for name in REGISTRY:
        assert f"`{name}`" in README, name


def test_every_operation_is_named_once_and_pages_and_feeds_are_documented(tmp_path):
    from liveblog import create_app

    app = create_app({"DATABASE": str(tmp_path / "d.db"),
                      "PUBLIC_URL": "https://live.example.com"})
    spec = app.test_client().get("/openapi.json").get_json()
    assert spec["servers"] == [{"url": "https://live.example.com"}]
    methods = ("get", "post", "put", "patch", "delete")
    operations = [(path, method, op) for path, ops in spec["paths"].items()
                  for method, op in ops.items() if method in methods]
    ids = [op.get("operationId") for _, _, op in operations]
    assert None not in ids and len(ids) == len(set(ids)), ids
    # every route Flask serves is in the document, pages and the Atom feed included
    documented = {(path, method) for path, method, _ in operations}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "api-docs.openapi_json"):
            continue
        path = rule.rule.replace("<", "{").replace(">", "}").replace("{path:", "{")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (path, method)
    atom = spec["paths"]["/blogs/{slug}/feed.atom"]["get"]
    assert "application/atom+xml" in atom["responses"]["200"]["content"]
    assert "text/html" in spec["paths"]["/blogs/{slug}"]["get"]["responses"]["200"]["content"]


def test_the_readme_stands_on_its_own():
    """The project's documentation points at nothing outside the repository (a user has only
    this folder): no path above it, and the API reference it names is the service's own."""
    import re

    assert re.search(r"(?<![.\w])\.\./", README) is None  # ``.../posts`` is an elision
    assert "`/docs`" in README and "`/openapi.json`" in README


def test_the_document_is_written_when_first_read_and_whole_for_readers_at_once(tmp_path):
    """Making an app does not write the OpenAPI document (most of making one: every worker,
    scheduler and test would pay for it); the first readers, eight at once, each get all of
    it, as a later reader does."""
    import json
    import threading

    from liveblog import create_app

    app = create_app({"DATABASE": str(tmp_path / "d.db")})
    api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    assert api._later, "the document was written while the app was made"
    documents: list[dict] = []
    start = threading.Barrier(8)

    def read() -> None:
        start.wait()
        documents.append(json.loads(json.dumps(api.spec.to_dict())))

    readers = [threading.Thread(target=read) for _ in range(8)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(10)
    whole = app.test_client().get("/openapi.json").get_json()
    assert len(documents) == 8
    assert all(document == whole for document in documents)
    assert "/api/polls/{poll}/votes" in whole["paths"] and "/blogs/{slug}" in whole["paths"]
