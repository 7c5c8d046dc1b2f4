"""Chain v2: each event's hash covers its payload's hash, so a payload can be erased by law and
the chain still verifies; a log recorded under chain v1 moves to v2 by a migration that checks
it first and keeps each event's v1 hash, which verify still checks wherever the payload is."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from events import (
    GENESIS_HASH,
    ChainError,
    EventStore,
    NewEvent,
    StoredRow,
    canonical,
    connect,
    export_jsonl,
    import_jsonl,
    verify,
)
from events.backends import database_errors
from events.migrations import migrate

from .tampering import tamper

_V1_COLUMNS = ("position, stream_id, version, type, schema_version, data, metadata,"
               " recorded_at, prev_hash, hash")


def erase(type_, data):
    """What the application keeps of an erased payload: its shape, no text."""
    return {key: "" if isinstance(value, str) else value for key, value in data.items()}


def fill(store):
    for n in range(6):
        store.append(f"s{n % 2}", [NewEvent("Added", {"text": f"secret {n}", "n": n},
                                            {"actor": "a"})])


def v1_hash(row):
    position, stream, version, type_, sv, data, meta, recorded_at, prev = row
    return hashlib.sha256(canonical({
        "position": position, "stream_id": stream, "version": version, "type": type_,
        "schema_version": sv, "data": json.loads(data), "metadata": json.loads(meta),
        "recorded_at": recorded_at, "prev_hash": prev}).encode()).hexdigest()


def v1_rows(count):
    """A log as chain v1 recorded it: the payload itself under each hash."""
    rows, prev = [], GENESIS_HASH
    for position in range(1, count + 1):
        row = (position, f"s{position % 3}", (position - 1) // 3 + 1, "Added", 1,
               canonical({"text": f"v1 event {position}", "n": position}),
               canonical({"actor": "old"}), f"2021-06-0{position % 9 + 1}T10:00:00.000000Z",
               prev)
        rows.append((*row, v1_hash(row)))
        prev = rows[-1][-1]
    rows.sort(key=lambda r: r[0])
    # recorded times never decrease along a log
    return [(*r[:7], f"2021-06-01T10:00:{r[0]:02d}.000000Z", *r[8:]) for r in rows]


def make_v1_database(database, rows):
    """A database as the store left it before chain v2: its first four migrations, v1 rows."""
    conn = connect(database)
    migrate(conn, upto=4)
    # recompute the hashes over the final times
    prev, fixed = GENESIS_HASH, []
    for row in rows:
        body = (*row[:8], prev)
        fixed.append((*body, v1_hash(body)))
        prev = fixed[-1][-1]
    conn.executemany(f"INSERT INTO events ({_V1_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", fixed)
    conn.close()
    return fixed


def test_redaction_erases_payloads_and_the_chain_still_verifies(database):
    store = EventStore.open(database)
    fill(store)
    head = store.head()
    erased = store.redact("s1", erase)
    assert erased == [2, 4, 6]
    rows = {r[0]: StoredRow._make(r) for r in store.read_rows(0)}
    assert [rows[p].data for p in erased] == [canonical({"n": n, "text": ""}) for n in (1, 3, 5)]
    assert all(rows[p].redacted for p in erased)
    assert not any(rows[p].redacted for p in (1, 3, 5))
    assert "secret 1" not in "".join(r.data for r in rows.values())
    result = verify(store.conn)
    assert result.ok and result.events_checked == 6 and result.redacted_events == 3
    assert store.head() == head  # no hash moved
    events = list(store.read_all())
    assert [e.redacted for e in events] == [False, True] * 3
    assert events[1].data == {"n": 1, "text": ""}
    assert store.redact("s1", erase) == []  # once erased, nothing more to erase


def test_only_an_erasure_may_change_a_stored_event(database):
    store = EventStore.open(database)
    fill(store)
    for sql in ("UPDATE events SET data = '{}' WHERE position = 1",
                "UPDATE events SET redacted = 1, hash = data_hash WHERE position = 1",
                "UPDATE events SET redacted = 1, metadata = '{}' WHERE position = 1",
                "DELETE FROM events WHERE position = 6"):
        with pytest.raises(database_errors(), match="immutable"):
            store.conn.execute(sql)
    store.redact("s0", erase)
    with pytest.raises(database_errors(), match="immutable"):  # not even a second erasure
        store.conn.execute("UPDATE events SET data = '{\"n\":0}', redacted = 1"
                           " WHERE position = 1")
    assert verify(store.conn).ok


def test_an_edited_payload_is_found_even_with_its_data_hash_recomputed(database):
    store = EventStore.open(database)
    fill(store)
    forged = canonical({"n": 2, "text": "forged"})
    tamper(store.conn, "UPDATE events SET data = ?, data_hash = ? WHERE position = 3",
           (forged, hashlib.sha256(forged.encode()).hexdigest()))
    result = verify(store.conn)
    assert not result.ok and result.first_bad_position == 3 and "bad hash" in result.detail
    # an erased payload marked as not erased is a payload that no longer matches its hash
    store.redact("s1", erase)
    tamper(store.conn, "UPDATE events SET redacted = 0 WHERE position = 4")
    result = verify(store.conn)
    assert not result.ok and result.first_bad_position == 3


def test_a_v1_log_moves_to_v2_and_verifies_with_its_v1_hashes_kept(database):
    old = make_v1_database(database, v1_rows(12))
    store = EventStore.open(database)
    rows = [StoredRow._make(r) for r in store.read_rows(0)]
    assert [r.legacy_hash for r in rows] == [r[9] for r in old]
    assert all(r.data_hash == hashlib.sha256(r.data.encode()).hexdigest() for r in rows)
    assert [r.data for r in rows] == [r[5] for r in old]
    result = verify(store.conn, page_size=5)
    assert result.ok and result.events_checked == 12 and result.legacy_head == old[-1][9]
    # the log goes on under v2, and a v1 event can be erased like any other
    store.append("s1", [NewEvent("Added", {"text": "new"})])
    store.redact("s1", erase)
    result = verify(store.conn, page_size=5)
    assert result.ok and result.events_checked == 13 and result.redacted_events == 5
    assert result.legacy_head == ""  # v1 events first, then v2 ones
    new = StoredRow._make(list(store.read_rows(12))[0])
    assert new.legacy_hash is None and new.prev_hash == rows[-1].hash
    # the migration ran once: reopening changes nothing
    again = EventStore.open(database)
    assert [tuple(r) for r in again.read_rows(0)] == [tuple(r) for r in store.read_rows(0)]


def test_a_v1_event_rewritten_after_the_move_is_found_by_its_v1_hash(database):
    make_v1_database(database, v1_rows(6))
    store = EventStore.open(database)
    # a forger who rewrites a payload and recomputes its data_hash and every v2 hash after it
    # (keeping the v1 hashes that checkpoints signed before the move name) ...
    forged = canonical({"n": 3, "text": "forged"})
    rows = [list(r) for r in store.read_rows(0)]
    rows[2][5], rows[2][10] = forged, hashlib.sha256(forged.encode()).hexdigest()
    from events.chain import record_hash

    prev = rows[1][9]
    for row in rows[2:]:
        row[8] = prev
        row[9] = prev = record_hash(*row[:9], legacy_hash=row[11])
    for row in rows[2:]:
        tamper(store.conn, "UPDATE events SET data = ?, data_hash = ?, prev_hash = ?, hash = ?"
               " WHERE position = ?", (row[5], row[10], row[8], row[9], row[0]))
    result = verify(store.conn)
    # ... is caught: the payload no longer matches the hash it had under v1
    assert not result.ok and result.first_bad_position == 3
    assert "chain v1" in result.detail


def test_a_broken_v1_log_is_not_moved(database):
    rows = make_v1_database(database, v1_rows(5))
    conn = connect(database)
    tamper(conn, "UPDATE events SET data = ? WHERE position = 4",
           (canonical({"n": 4, "text": "edited"}),))
    conn.close()
    with pytest.raises(ChainError, match="position 4"):
        EventStore.open(database)
    conn = connect(database)  # still v1, as it was: nothing half-moved
    assert [r[9] for r in conn.execute(f"SELECT {_V1_COLUMNS} FROM events ORDER BY position")
            ] == [r[9] for r in rows]
    conn.close()


def test_export_and_import_keep_erasures_and_v1_hashes(database, tmp_path, backend):
    make_v1_database(database, v1_rows(6))
    store = EventStore.open(database)
    store.append("s1", [NewEvent("Added", {"text": "after"})])
    store.redact("s1", erase)
    out = io.StringIO()
    assert export_jsonl(store, out) == 7
    lines = out.getvalue().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["redacted"] for r in records] == [True, False, False, True, False, False, True]
    assert "legacy_hash" in records[0] and "legacy_hash" not in records[6]
    assert "v1 event 1" not in out.getvalue()
    copy = EventStore.open(tmp_path / "copy.db")
    head = import_jsonl(copy, lines)
    assert head == store.head()
    assert [tuple(r) for r in copy.read_rows(0)] == [tuple(r) for r in store.read_rows(0)]
    result = verify(copy.conn)
    assert result.ok and result.redacted_events == 3
    # an erased payload claimed as not erased is refused, naming its line
    records[3]["redacted"] = False
    bad = [canonical(r) for r in records]
    with pytest.raises(ChainError, match="line 4"):
        import_jsonl(EventStore.open(tmp_path / "bad.db"), bad)


def test_an_export_made_under_v1_imports_into_v2(tmp_path):
    rows = v1_rows(5)
    prev, lines = GENESIS_HASH, []
    for row in rows:
        body = (*row[:8], prev)
        record = dict(zip(_V1_COLUMNS.split(", "), (*body, v1_hash(body)), strict=True))
        record["data"], record["metadata"] = json.loads(record["data"]), json.loads(
            record["metadata"])
        prev = record["hash"]
        lines.append(canonical(record))
    store = EventStore.open(tmp_path / "in.db")
    import_jsonl(store, lines)
    stored = [StoredRow._make(r) for r in store.read_rows(0)]
    assert [r.legacy_hash for r in stored] == [json.loads(line)["hash"] for line in lines]
    assert verify(store.conn).ok
    lines[2] = lines[2].replace("v1 event", "v1 EVENT")
    with pytest.raises(ChainError, match="line 3.*position 3"):
        import_jsonl(EventStore.open(tmp_path / "in2.db"), lines)
