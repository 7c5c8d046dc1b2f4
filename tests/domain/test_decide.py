"""Given a stream's events, when a command, then events or an error. Pure: no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from liveblog.domain import commands as cmd
from liveblog.domain import events as ev
from liveblog.domain.decide import decide_blog, decide_post, decide_token
from liveblog.domain.errors import (
    BlogClosedError,
    BlogNotFoundError,
    IllegalTransitionError,
    InvalidCommandError,
    PostNotFoundError,
    TokenNotFoundError,
)
from liveblog.domain.model import fold_blog, fold_post, fold_token

NOW = datetime(2022, 1, 21, 13, 31, tzinfo=UTC)
CONTENT = {"headline": "Polls close", "byline": {"contributors": ["Jane Roe"]}, "body": []}


def blog(*more):
    return fold_blog([ev.BlogCreated("b", "s", "T", "", [], None, "UTC"), *more])


def post(*more, status="published"):
    first = {"published": ev.PostPublished("b", "p", 1, CONTENT),
             "draft": ev.PostDrafted("b", "p", 1, CONTENT),
             "scheduled": ev.PostScheduled("b", "p", 1, datetime(2022, 1, 21, 14, 0, tzinfo=UTC),
                                           CONTENT)}[status]
    return fold_post([first, *more])


def test_create_post_published_pinned_is_one_revision():
    events = decide_post(blog(), None, cmd.CreatePost("b", "p", CONTENT, pinned=True,
                                                      key_event=True), NOW)
    assert events == [ev.PostPublished("b", "p", 1, CONTENT), ev.PostPinned("b", "p", 1),
                      ev.PostMarkedKeyEvent("b", "p", 1)]
    state = fold_post(events)
    assert (state.version, state.pinned, state.key_event, state.status) == (1, True, True,
                                                                            "published")


def test_create_post_on_closed_blog_is_refused():
    with pytest.raises(BlogClosedError):
        decide_post(blog(ev.BlogClosed("b")), None, cmd.CreatePost("b", "p", CONTENT), NOW)


def test_create_post_on_missing_blog_is_not_found():
    with pytest.raises(BlogNotFoundError):
        decide_post(None, None, cmd.CreatePost("b", "p", CONTENT), NOW)


def test_schedule_needs_a_future_time():
    with pytest.raises(InvalidCommandError):
        decide_post(blog(), None, cmd.CreatePost("b", "p", CONTENT, publish_at=NOW), NOW)
    [event] = decide_post(blog(), None, cmd.CreatePost(
        "b", "p", CONTENT, publish_at=NOW + timedelta(hours=1)), NOW)
    assert event == ev.PostScheduled("b", "p", 1, datetime(2022, 1, 21, 14, 31, tzinfo=UTC),
                                     CONTENT)


def test_edit_records_only_changed_fields_and_bumps_the_revision():
    [event] = decide_post(blog(), post(), cmd.EditPost(
        "b", "p", changes={"headline": "Polls closed", "body": []}), NOW)
    assert event == ev.PostEdited("b", "p", 2, {"headline": "Polls closed"})


def test_edit_that_changes_nothing_records_nothing():
    assert decide_post(blog(), post(), cmd.EditPost("b", "p", changes=dict(CONTENT),
                                                    pinned=False), NOW) == []


def test_no_edit_of_a_deleted_post():
    with pytest.raises(IllegalTransitionError):
        decide_post(blog(), post(ev.PostDeleted("b", "p", 2)),
                    cmd.EditPost("b", "p", changes={"headline": "x"}), NOW)


def test_no_publish_of_a_published_post():
    with pytest.raises(IllegalTransitionError):
        decide_post(blog(), post(), cmd.EditPost("b", "p", publish=True), NOW)


def test_publish_a_draft_now():
    assert decide_post(blog(), post(status="draft"), cmd.EditPost("b", "p", publish=True),
                       NOW) == [ev.PostPublished("b", "p", 2)]


def test_edits_are_allowed_on_a_closed_blog():
    # corrections after a story ends are still possible; only new posts are refused
    assert decide_post(blog(ev.BlogClosed("b")), post(),
                       cmd.EditPost("b", "p", changes={"headline": "Fixed"}), NOW)


def test_a_closed_blog_publishes_nothing():
    closed = blog(ev.BlogClosed("b"))
    with pytest.raises(BlogClosedError):
        decide_post(closed, post(status="draft"), cmd.EditPost("b", "p", publish=True), NOW)
    later = NOW + timedelta(hours=1)
    scheduled = post(status="scheduled")
    # due, but the blog is closed: it stays scheduled ...
    assert decide_post(closed, scheduled, cmd.PublishDuePost("b", "p"), later) == []
    # ... and goes live once the blog reopens
    reopened = blog(ev.BlogClosed("b"), ev.BlogReopened("b"))
    assert decide_post(reopened, scheduled, cmd.PublishDuePost("b", "p"), later) == [
        ev.PostPublished("b", "p", 2)]


def test_post_of_another_blog_is_not_found():
    other = fold_post([ev.PostPublished("other", "p", 1, CONTENT)])
    with pytest.raises(PostNotFoundError):
        decide_post(blog(), other, cmd.DeletePost("b", "p"), NOW)


def test_delete_twice_is_illegal():
    with pytest.raises(IllegalTransitionError):
        decide_post(blog(), post(ev.PostDeleted("b", "p", 2)), cmd.DeletePost("b", "p"), NOW)


def test_publish_due_post_is_a_no_op_unless_scheduled_and_due():
    scheduled = post(status="scheduled")
    assert decide_post(blog(), scheduled, cmd.PublishDuePost("b", "p"), NOW) == []
    later = NOW + timedelta(hours=1)
    assert decide_post(blog(), scheduled, cmd.PublishDuePost("b", "p"), later) == [
        ev.PostPublished("b", "p", 2)]
    assert decide_post(blog(), post(), cmd.PublishDuePost("b", "p"), later) == []


def test_close_and_reopen_transitions():
    assert decide_blog(blog(), cmd.CloseBlog("b"), NOW) == [ev.BlogClosed("b")]
    with pytest.raises(IllegalTransitionError):
        decide_blog(blog(ev.BlogClosed("b")), cmd.CloseBlog("b"), NOW)
    with pytest.raises(IllegalTransitionError):
        decide_blog(blog(), cmd.ReopenBlog("b"), NOW)


def test_update_blog_records_only_changes():
    assert decide_blog(blog(), cmd.UpdateBlog("b", {"title": "T", "slug": "new"}), NOW) == [
        ev.BlogUpdated("b", {"slug": "new"})]


def test_tokens_revoke_once():
    token = fold_token([ev.TokenCreated("t", "Jane", "editor", "h")])
    assert decide_token(token, cmd.RevokeToken("t")) == [ev.TokenRevoked("t")]
    with pytest.raises(IllegalTransitionError):
        decide_token(fold_token([ev.TokenCreated("t", "J", "editor", "h"),
                                 ev.TokenRevoked("t")]), cmd.RevokeToken("t"))
    with pytest.raises(TokenNotFoundError):
        decide_token(None, cmd.RevokeToken("t"))
