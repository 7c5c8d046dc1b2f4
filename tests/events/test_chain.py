"""The hash chain: verify() on a clean log, and tampering caught at exactly its position."""

from __future__ import annotations

import hashlib
import json

import pytest

from events import GENESIS_HASH, NewEvent, canonical, verify


def fill(store, n=12):
    for i in range(n):
        store.append(f"s{i % 3}", [NewEvent("Added", {"amount": i, "text": "naïve ☃"},
                                            {"actor": "t"})])


def tamper(store, sql, params=()):
    """Change a stored row behind the store's back: drop the triggers, write, restore them."""
    conn = store.conn
    triggers = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'"
                            " AND tbl_name = 'events'").fetchall()
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("DROP TRIGGER events_no_delete")
    conn.execute(sql, params)
    for (statement,) in triggers:
        conn.execute(statement)


def test_hash_is_sha256_of_the_canonical_record(store):
    [event] = store.append("a", [NewEvent("Added", {"b": 1, "a": "é"}, {"z": 1})])
    record = {
        "position": 1, "stream_id": "a", "version": 1, "type": "Added", "schema_version": 1,
        "data": {"a": "é", "b": 1}, "metadata": {"z": 1},
        "recorded_at": "2022-01-21T13:31:00.000000Z", "prev_hash": GENESIS_HASH,
    }
    expected = hashlib.sha256(canonical(record).encode()).hexdigest()
    assert event.hash == expected
    assert canonical({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'


def test_verify_clean_log(store):
    fill(store)
    result = verify(store.conn, page_size=5)
    assert result.ok and result.events_checked == 12
    assert result.head == store.head()
    assert result.first_bad_position is None


def test_verify_empty_log(store):
    result = verify(store.conn)
    assert result.ok and result.events_checked == 0 and result.head.hash == GENESIS_HASH


@pytest.mark.parametrize("position", [1, 5, 12])
@pytest.mark.parametrize("column,value", [
    ("data", json.dumps({"amount": 999, "text": "naïve ☃"})),
    ("metadata", '{"actor":"someone else"}'),
    ("stream_id", "s9"),
    ("version", 77),
    ("type", "Removed"),
    ("recorded_at", "2021-01-01T00:00:00.000000Z"),
])
def test_tampered_event_is_found_at_its_position(store, position, column, value):
    fill(store)
    tamper(store, f"UPDATE events SET {column} = ? WHERE position = ?", (value, position))
    result = verify(store.conn, page_size=4)
    assert not result.ok
    assert result.first_bad_position == position
    assert "bad hash" in result.detail
    assert result.events_checked == position - 1


def test_rehashed_tampering_breaks_the_next_link(store):
    fill(store)
    tamper(store, "UPDATE events SET hash = ? WHERE position = 4", ("f" * 64,))
    result = verify(store.conn)
    assert result.first_bad_position == 4  # its own hash no longer matches its content


def test_deleted_event_is_a_gap(store):
    fill(store)
    tamper(store, "DELETE FROM events WHERE position = 7")
    result = verify(store.conn)
    assert result.first_bad_position == 8
    assert "gap" in result.detail
