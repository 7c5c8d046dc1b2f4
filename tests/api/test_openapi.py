"""Docs that fail when they drift: every route documents its errors; /docs renders."""

from __future__ import annotations


def test_every_operation_documents_its_error_responses(client):
    spec = client.get("/openapi.json").get_json()
    operations = [(path, method, op) for path, ops in spec["paths"].items()
                  for method, op in ops.items() if method in ("get", "post", "patch", "delete")]
    assert len(operations) >= 12
    for path, method, op in operations:
        codes = {int(c) for c in op["responses"] if c.isdigit()}
        assert any(c >= 400 for c in codes), (method, path)
        for code in codes:
            if code >= 400:
                content = op["responses"][str(code)].get("content", {})
                assert "application/problem+json" in content, (method, path, code)
    writes = [op for _, m, op in operations if m in ("post", "patch", "delete")]
    assert all({"401", "403"} <= set(op["responses"]) for op in writes)


def test_the_contract_paths_are_all_there(client):
    paths = set(client.get("/openapi.json").get_json()["paths"])
    assert {"/api/blogs", "/api/blogs/{blog}", "/api/blogs/{blog}/close",
            "/api/blogs/{blog}/reopen", "/api/blogs/{blog}/posts",
            "/api/blogs/{blog}/posts/{post}", "/api/blogs/{blog}/changes",
            "/healthz"} <= paths


def test_docs_page_renders_every_path(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "PATCH /api/blogs/{blog}/posts/{post}" in html
    assert "<script" not in html


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
