"""What the precondition decorators document can happen: every operation whose OpenAPI entry
lists 428 answers 428 without If-Match, and every one that lists 412 answers 412 to an If-Match
that is no version of ours. The operations are walked from the document, so a new one needs a
row here (the converse, a status the document does not list, fails the access table:
tests/api/test_access.py; its 401s and 403s are what ``require`` documents)."""

from __future__ import annotations

from .helpers import assert_problem, create_blog, create_post

#: a body each operation that takes If-Match validates (the check comes after validation)
BODIES = {
    ("PATCH", "/api/blogs/{blog}"): {"title": "Renamed"},
    ("PATCH", "/api/blogs/{blog}/posts/{post}"): {"headline": "Changed"},
    ("DELETE", "/api/blogs/{blog}/posts/{post}"): None,
    ("POST", "/api/blogs/{blog}/posts/{post}/corrections"): {"text": "Put right",
                                                             "reason": "factual"},
    ("POST", "/api/blogs/{blog}/posts/{post}/submit"): None,
    ("POST", "/api/blogs/{blog}/posts/{post}/approve"): {},
    ("POST", "/api/blogs/{blog}/posts/{post}/reject"): {"note": "Needs a source"},
    ("POST", "/api/blogs/{blog}/posts/{post}/unpublish"): {"reason": "Premature"},
}


def test_every_documented_precondition_status_happens(client, editor):
    spec = client.get("/openapi.json").get_json()
    blog = create_blog(client, editor, slug="preconditions")
    post = create_post(client, editor, blog["id"], headline="Kept")
    operations = {(method.upper(), path): op["responses"]
                  for path, item in spec["paths"].items() for method, op in item.items()
                  if method in ("get", "post", "put", "patch", "delete")}
    taking = {key for key, responses in operations.items()
              if "412" in responses or "428" in responses}
    assert taking == set(BODIES), "operations that take If-Match need a row in BODIES"
    for (method, path), body in BODIES.items():
        url = path.format(blog=blog["id"], post=post["id"])
        kwargs = {} if body is None else {"json": body}
        if "428" in operations[method, path]:
            answer = client.open(url, method=method, headers=editor, **kwargs)
            assert_problem(answer, 428)
        foreign = client.open(url, method=method, headers={**editor, "If-Match": '"x7"'},
                              **kwargs)
        assert_problem(foreign, 412)
    # the post was never changed: each refusal changed nothing
    assert client.get(f"/api/blogs/{blog['id']}/posts/{post['id']}",
                      headers=editor).get_json()["version"] == 1
