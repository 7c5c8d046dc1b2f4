"""A rebuild reproduces every read model byte for byte, on both backends: a strong ETag names
one representation, before and after."""

from __future__ import annotations

import re

import pytest

from liveblog.bootstrap import get_liveblog
from liveblog.projections import all_projections

from .workload import mixed_log


def tables(conn):
    """Every projection table, every row, every column, in key order."""
    out = {}
    for projection in all_projections():
        for table, columns in projection.columns.items():
            # key order (a history's versions of one key: by every column after it)
            out[table] = conn.execute(f"SELECT {', '.join(columns)} FROM {table}"
                                      f" ORDER BY {', '.join(columns)}").fetchall()
    return out


def indexes(conn):
    """The projections' indexes by name, their generation left out."""
    if conn.dialect == "postgresql":
        names = conn.execute("SELECT indexname FROM pg_indexes"
                             " WHERE schemaname = current_schema()").fetchall()
    else:
        names = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    return sorted(re.sub(r"_g[0-9]+$", "", name) for (name,) in names if name.startswith("ix_"))


@pytest.mark.parametrize("workers", [1, 2], ids=["whole", "in_parts"])
def test_a_rebuild_reproduces_every_read_model_byte_for_byte(app, client, clock, workers):
    with app.app_context():
        db = get_liveblog()
        appended = mixed_log(db.service(), clock, events=600, blogs=3)
        assert appended >= 600
        before = tables(db.store().conn)
        indexed = indexes(db.store().conn)
        assert len(before["feed_posts"]) > 100
        assert "ix_feed_posts_versions_published" in indexed
        slug = db.store().conn.execute("SELECT slug FROM blogs ORDER BY id").fetchone()[0]
    feed = client.get(f"/api/blogs/{slug}/posts?limit=100")
    changes = client.get(f"/api/blogs/{slug}/changes?since={feed.get_json()['blog']['cursor']}")
    with app.app_context():
        db = get_liveblog()
        runner = db.runner()
        # folded whole, or by two worker processes a share of the blogs each (on a log of
        # any length); PostgreSQL's are always folded whole
        runner.workers, runner.parts_from = workers, 0
        replayed = runner.rebuild()
        assert runner.last_workers == (2 if workers == 2 and db.store().conn.dialect == "sqlite"
                                       else 0)
        assert replayed == db.store().head().position
        assert tables(db.store().conn) == before
        assert indexes(db.store().conn) == indexed
    again = client.get(f"/api/blogs/{slug}/posts?limit=100")
    assert again.headers["ETag"] == feed.headers["ETag"]
    assert again.get_data() == feed.get_data()
    # a reader holding the old answer is told it is still current: it is the same bytes
    assert client.get(f"/api/blogs/{slug}/posts?limit=100", headers={
        "If-None-Match": feed.headers["ETag"]}).status_code == 304
    assert client.get(changes.request.full_path).get_data() == changes.get_data()
