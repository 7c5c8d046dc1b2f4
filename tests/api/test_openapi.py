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
                if code == 404 and op["tags"] == ["pages"] and not path.startswith(
                        ("/assets/", "/console/zones/")):  # files and data: problems
                    assert "text/html" in content, (method, path)  # a page's 404 is a page
                    continue
                if op["tags"] == ["sign-in"]:  # a browser's round trip: every failure a page
                    assert "text/html" in content, (method, path, code)
                    continue
                assert "application/problem+json" in content, (method, path, code)
    # signing out needs no one signed in; a reader asks a question or votes without one
    readers = {("post", "/api/blogs/{blog}/questions"), ("post", "/api/polls/{poll}/votes")}
    writes = [op for path, m, op in operations if m in ("post", "patch", "delete")
              and op["tags"] != ["sign-in"] and (m, path) not in readers]
    assert all({"401", "403"} <= set(op["responses"]) for op in writes)


def test_the_openapi_document_is_valid_openapi_3(client):
    from openapi_spec_validator import validate

    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    validate(spec)  # raises, naming the first invalid part


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
    from importlib.metadata import version

    from events import SCHEMA_VERSION

    assert client.get("/healthz").get_json() == {"status": "ok", "writes": "ok",
                                                 "version": version("liveblog"),
                                                 "schema_version": SCHEMA_VERSION,
                                                 "scheduler": "starting"}


def test_documented_headers_are_the_ones_sent(client, editor):
    spec = client.get("/openapi.json").get_json()
    assert "Idempotency-Key" in spec["info"]["description"]
    ops = spec["paths"]
    params = {(path, method): {p["name"] for p in op.get("parameters", [])}
              for path, item in ops.items() for method, op in item.items()
              if method in ("get", "post", "patch", "delete")}
    for path, method in params:
        if method == "get" and not path.startswith((
                "/api/events", "/api/audit", "/healthz", "/metrics", "/api/me", "/.well-known",
                "/login", "/api/webhooks", "/api/challenge",
                "/console",
                "/docs")) and "history" not in path and not path.endswith(
                    ("/presence", "/members", "/candidates", "/questions")):
            assert "If-None-Match" in params[path, method], path
            assert "304" in ops[path][method]["responses"], path
        # an upload is idempotent by its bytes; signing out twice is signing out; a question
        # and a vote count once by their proof of work and their voter; a question is answered
        # or rejected once, a poll closed once (a second is a 409, or changes nothing)
        once = ("/api/media", "/logout", "/api/blogs/{blog}/questions",
                "/api/blogs/{blog}/questions/{question}/answer",
                "/api/blogs/{blog}/questions/{question}/reject", "/api/polls/{poll}/votes",
                "/api/polls/{poll}/close")
        if method == "post" and path not in once:
            assert "Idempotency-Key" in params[path, method], path
    assert params["/api/blogs/{blog}/posts/{post}", "patch"] >= {"If-Match"}
    assert params["/api/blogs/{blog}/posts/{post}", "delete"] >= {"If-Match", "reason"}
    assert params["/api/blogs/{blog}/posts", "get"] >= {"order", "limit", "cursor",
                                                        "If-None-Match"}
    # and the server sends what the document promises
    created = client.post("/api/blogs", json={"title": "Docs"}, headers=editor)
    documented = ops["/api/blogs"]["post"]["responses"]["201"]["headers"]
    assert set(documented) <= set(created.headers.keys())
    blog = created.get_json()["id"]
    post = client.post(f"/api/blogs/{blog}/posts", json={"headline": "h"}, headers=editor)
    assert set(ops["/api/blogs/{blog}/posts"]["post"]["responses"]["201"]["headers"]) <= set(
        post.headers.keys())
    url = f"/api/blogs/{blog}/posts/{post.get_json()['id']}"
    patched = client.patch(url, json={"headline": "h2"}, headers={**editor, "If-Match": '"1"'})
    assert set(ops["/api/blogs/{blog}/posts/{post}"]["patch"]["responses"]["200"]["headers"]) \
        <= set(patched.headers.keys())
    feed = client.get(f"/api/blogs/{blog}/posts")
    assert set(ops["/api/blogs/{blog}/posts"]["get"]["responses"]["200"]["headers"]) <= set(
        feed.headers.keys())
    again = client.get(f"/api/blogs/{blog}/posts", headers={"If-None-Match": feed.headers["ETag"]})
    assert again.status_code == 304
    assert set(ops["/api/blogs/{blog}/posts"]["get"]["responses"]["304"]["headers"]) <= set(
        again.headers.keys())
