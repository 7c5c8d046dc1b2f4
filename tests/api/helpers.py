"""Helpers shared by the API tests."""

from __future__ import annotations

PROBLEM_MEMBERS = {"type", "title", "status", "detail"}


def assert_problem(response, status, *, fields=()):
    """The response is problem+json with the four members, ``status`` equal to the HTTP code,
    and (when given) errors for each of ``fields``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert PROBLEM_MEMBERS <= set(body), body
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    for field in fields:
        assert field in body.get("errors", {}), body
    return body


def create_blog(client, editor, **fields):
    response = client.post("/api/blogs", json={"title": "Election night", **fields},
                           headers=editor)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def create_post(client, editor, blog, **fields):
    body = {"headline": "Polls close", **fields}
    response = client.post(f"/api/blogs/{blog}/posts", json=body, headers=editor)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def cookie_attributes(cookie: str) -> set[str]:
    """A Set-Cookie's attributes but its value and its Expires (a second apart, it differs)."""
    return {part.strip() for part in cookie.split(";")[1:]
            if not part.strip().startswith("Expires=")}
