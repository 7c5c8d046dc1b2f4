"""The post workflow: a contributor drafts and submits, an editor approves or rejects with a
note, unpublishes; what readers see at each step; memberships as events in the log."""

from __future__ import annotations

from liveblog.service import Actor

from .helpers import assert_problem

CLI = Actor("cli", "tests")


def _token(app, role, name, blogs=()):
    from liveblog.api.views import service
    from liveblog.tokens import create_token

    with app.app_context():
        token_id, secret = create_token(service(), role, name, CLI, list(blogs))
    return token_id, {"Authorization": f"Bearer {secret}"}


def _desk(app, client):
    _, admin = _token(app, "admin", "Ada Admin")
    blog = client.post("/api/blogs", json={"title": "Election night"}, headers=admin).get_json()
    carl_id, carl = _token(app, "contributor", "Carl Contrib", [blog["id"]])
    _, dora = _token(app, "contributor", "Dora Contrib", [blog["id"]])
    _, edna = _token(app, "editor", "Edna Editor", [blog["id"]])
    return blog, admin, carl_id, carl, dora, edna


def _reader_views(client, blog):
    """Every headline a reader can reach: the feed, /changes from the start, Atom, the page."""
    feed = client.get(f"/api/blogs/{blog['id']}/posts").get_json()
    changes = client.get(f"/api/blogs/{blog['id']}/changes?since={blog['cursor']}").get_json()
    return {
        "feed": [p["headline"] for p in feed["posts"]],
        "changes": [c["post"]["headline"] for c in changes.get("changes", [])
                    if c["op"] == "upsert"],
        "atom": client.get(f"/blogs/{blog['slug']}/feed.atom").get_data(as_text=True),
        "page": client.get(f"/blogs/{blog['slug']}").get_data(as_text=True),
    }


def test_a_contributors_post_reaches_readers_only_once_an_editor_approves_it(app, client):
    blog, _, carl_id, carl, dora, edna = _desk(app, client)
    posts = f"/api/blogs/{blog['id']}/posts"
    draft = client.post(posts, json={"headline": "Turnout is high in Lviv"}, headers=carl)
    assert draft.status_code == 201
    post = draft.get_json()
    assert post["status"] == "draft" and post["author"] == {"id": carl_id,
                                                            "name": "Carl Contrib"}
    url = f"{posts}/{post['id']}"
    # another contributor neither sees nor touches it; readers get a 404
    assert client.get(url, headers=dora).status_code == 404
    assert client.get(url).status_code == 404
    assert_problem(client.patch(url, json={"headline": "x"},
                                headers={**dora, "If-Match": '"1"'}), 403)
    assert_problem(client.post(f"{url}/submit", headers=dora), 403)
    # the author submits; the editor's queue has it, the other contributor's list does not
    assert client.post(f"{url}/submit", headers=carl).get_json()["status"] == "submitted"
    queue = client.get(f"{posts}?status=submitted", headers=edna).get_json()
    assert [p["id"] for p in queue["posts"]] == [post["id"]]
    assert client.get(f"{posts}?status=submitted", headers=dora).get_json()["posts"] == []
    # rejected with a note, the author sees it with the draft
    rejected = client.post(f"{url}/reject", json={"note": "Name the source, please"},
                           headers=edna)
    assert rejected.get_json()["status"] == "draft"
    mine = client.get(f"{posts}?status=draft", headers=carl).get_json()["posts"]
    assert mine[0]["review_note"] == "Name the source, please"
    edited = client.patch(url, json={"headline": "Turnout is high in Lviv, officials say"},
                          headers={**carl, "If-Match": '"3"'})
    assert edited.status_code == 200
    assert client.post(f"{url}/submit", headers=carl).get_json()["review_note"] is None
    for name, seen in _reader_views(client, blog).items():
        assert "Turnout" not in str(seen), name
    # the contributor cannot approve or publish it themselves
    assert_problem(client.post(f"{url}/approve", headers={**carl, "If-Match": '"5"'}), 403)
    assert_problem(client.patch(url, json={"status": "published"},
                                headers={**carl, "If-Match": '"5"'}), 403)
    assert_problem(client.post(f"{url}/approve", headers=edna), 428)
    assert_problem(client.post(f"{url}/approve", headers={**edna, "If-Match": '"4"'}), 412)
    approved = client.post(f"{url}/approve", headers={**edna, "If-Match": '"5"'})
    assert approved.get_json()["status"] == "published"
    for name, seen in _reader_views(client, blog).items():
        assert "Turnout is high in Lviv, officials say" in str(seen), name
    # now out, it is the editors' alone
    assert_problem(client.patch(url, json={"headline": "x"},
                                headers={**carl, "If-Match": '"6"'}), 403)
    assert_problem(client.delete(url, headers=carl), 403)


def test_unpublishing_sends_readers_a_delete_and_takes_it_off_every_view(app, client):
    blog, _, _, _, _, edna = _desk(app, client)
    posts = f"/api/blogs/{blog['id']}/posts"
    post = client.post(posts, json={"headline": "Premature call"}, headers=edna).get_json()
    cursor = client.get(f"/api/blogs/{blog['id']}").get_json()["cursor"]
    done = client.post(f"{posts}/{post['id']}/unpublish", json={"reason": "Not confirmed"},
                       headers=edna)
    assert done.status_code == 200 and done.get_json()["status"] == "draft"
    changes = client.get(f"/api/blogs/{blog['id']}/changes?since={cursor}").get_json()
    assert changes["changes"] == [{"op": "delete", "id": post["id"]}]
    assert changes["blog"]["post_count"] == 0
    for name, seen in _reader_views(client, blog).items():
        assert "Premature call" not in str(seen), name
    assert_problem(client.post(f"{posts}/{post['id']}/unpublish", headers=edna), 409)
    # an editor may publish it again later
    again = client.patch(f"{posts}/{post['id']}", json={"status": "published"},
                         headers={**edna, "If-Match": f'"{done.get_json()["version"]}"'})
    assert again.get_json()["status"] == "published"


def test_approving_with_a_future_time_schedules_the_post(app, client, clock):
    blog, _, _, carl, _, edna = _desk(app, client)
    posts = f"/api/blogs/{blog['id']}/posts"
    post = client.post(posts, json={"headline": "At nine", "status": "submitted"},
                       headers=carl).get_json()
    assert post["status"] == "submitted"
    at = "2022-01-21T21:00:00Z"
    approved = client.post(f"{posts}/{post['id']}/approve", json={"publish_at": at},
                           headers={**edna, "If-Match": f'"{post["version"]}"'}).get_json()
    assert approved["status"] == "scheduled" and approved["publish_at"] == at.replace(
        "Z", ".000000Z")


def test_the_log_answers_who_could_publish_on_a_blog_at_a_moment(app, client, clock, auditor):
    blog, admin, carl_id, carl, _, _ = _desk(app, client)
    members = f"/api/blogs/{blog['id']}/members"
    clock.advance(hours=1)
    assert client.put(f"{members}/{carl_id}", json={"role": "editor"},
                      headers=admin).status_code == 200
    promoted_at = clock.now
    clock.advance(hours=1)
    assert client.delete(f"{members}/{carl_id}", headers=admin).status_code == 204
    events = client.get(f"/api/events?blog={blog['id']}&limit=100",
                        headers=auditor).get_json()["events"]

    def editors_at(moment):
        held = {}
        for e in events:
            if e["type"] in ("MemberAdded", "MemberRemoved") and e["recorded_at"] <= moment:
                if e["type"] == "MemberAdded":
                    held[e["data"]["person_id"]] = e["data"]["role"]
                else:
                    held.pop(e["data"]["person_id"], None)
        return {p for p, r in held.items() if r == "editor"}

    from events import format_time

    assert carl_id in editors_at(format_time(promoted_at))
    assert carl_id not in editors_at(format_time(clock.now))
    removal = [e for e in events if e["type"] == "MemberRemoved"][0]
    assert removal["metadata"]["actor"]["name"] == "Ada Admin"
    # and the removal ends Carl's access at his next request
    assert_problem(client.post(f"/api/blogs/{blog['id']}/posts", json={"headline": "x"},
                               headers=carl), 403)


def test_an_editor_of_the_blog_manages_contributors_but_not_editors(app, client):
    blog, admin, carl_id, _, _, edna = _desk(app, client)
    members = f"/api/blogs/{blog['id']}/members"
    listed = client.get(members, headers=edna).get_json()["members"]
    assert [(m["name"], m["role"]) for m in listed] == [
        ("Edna Editor", "editor"), ("Carl Contrib", "contributor"),
        ("Dora Contrib", "contributor")]
    assert_problem(client.put(f"{members}/{carl_id}", json={"role": "editor"}, headers=edna),
                   403)
    assert_problem(client.put(f"{members}/nobody", json={"role": "contributor"},
                              headers=admin), 404)
    assert_problem(client.put(f"{members}/{carl_id}", json={"role": "boss"}, headers=admin),
                   422, fields=["role"])
    assert client.delete(f"{members}/{carl_id}", headers=edna).status_code == 204
    assert_problem(client.delete(f"{members}/{carl_id}", headers=edna), 404)


def test_an_editor_finds_people_to_add_by_name(app, client, tokens):
    """Candidates: holders of scoped tokens and people who signed in, not yet members,
    never a newsroom-wide token, nor a revoked one; found by any part of the name."""
    from liveblog.api.views import service
    from liveblog.service import Actor
    from liveblog.tokens import create_token, revoke_token

    from .helpers import create_blog

    admin = tokens.headers("admin", "Ada Admin")
    blog = create_blog(client, admin, slug="finds")
    other = create_blog(client, admin, slug="elsewhere")
    cli = Actor("cli", "tests")
    with app.app_context():
        carl, _ = create_token(service(), "contributor", "Carl Contrib", cli, [other["id"]])
        gone, _ = create_token(service(), "contributor", "Carla Gone", cli, [other["id"]])
        revoke_token(service(), gone, cli)
        create_token(service(), "editor", "Carlos Newsroom", cli)  # acts on every blog
    found = client.get(f"/api/blogs/{blog['id']}/candidates?q=carl", headers=admin)
    assert found.status_code == 200
    assert [(c["id"], c["name"], c["kind"]) for c in found.get_json()["candidates"]] == [
        (carl, "Carl Contrib", "token")]
    assert client.put(f"/api/blogs/{blog['id']}/members/{carl}", json={"role": "contributor"},
                      headers=admin).status_code == 200
    again = client.get(f"/api/blogs/{blog['id']}/candidates?q=carl", headers=admin)
    assert again.get_json()["candidates"] == []  # a member now
