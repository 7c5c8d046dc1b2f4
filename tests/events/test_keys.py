"""Sealed payloads (events.keys), on both backends: a stream's payloads are stored sealed and
read back as they were; the same text seals to the same bytes; destroying a stream's key makes
its copies unreadable and leaves every other stream's, its group's included, readable; a key a
rolled-back transaction made is never used again; a fresh connection reads what another
sealed."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap

from events import EventStore, NewEvent, write_transaction
from events.keys import GROUPS, PREFIX, SealedContentError, group_of, is_sealed, keys_of
from events.store import verify


def _sealed(stream: str, type_: str = "") -> bool:
    return stream.startswith("secret/")


@pytest.fixture
def sealed_store(database, clock):
    s = EventStore.open(database, clock=clock, sealed=_sealed)
    yield s
    s.close()


def _stored(store: EventStore, stream: str) -> list[str]:
    return [row[0] for row in store.conn.execute(
        "SELECT data FROM events WHERE stream_id = ? ORDER BY version", (stream,))]


def test_a_sealed_streams_payloads_are_stored_sealed_and_read_back(sealed_store, database):
    sealed_store.append("secret/1", [NewEvent("Said", {"text": "the witness's name"})])
    sealed_store.append("open/1", [NewEvent("Said", {"text": "the weather"})])
    assert all(is_sealed(d) for d in _stored(sealed_store, "secret/1"))
    assert "the witness's name" not in "".join(_stored(sealed_store, "secret/1"))
    assert _stored(sealed_store, "open/1") == ['{"text":"the weather"}']
    other = EventStore.open(database, sealed=_sealed)  # another connection, its own keys
    try:
        assert [e.data for e in other.read_stream("secret/1")] == [
            {"text": "the witness's name"}]
    finally:
        other.close()


def test_the_same_text_seals_to_the_same_bytes(sealed_store):
    keys = keys_of(sealed_store.conn)
    with write_transaction(sealed_store.conn):
        first = keys.seal("secret/2", '{"a":1}')
        again = keys.seal("secret/2", '{"a":1}')
        other = keys.seal("secret/3", '{"a":1}')
    assert first == again and first != other
    assert keys.seal("secret/2", "[]") == "[]"  # empty JSON stays as it is


def test_sealing_is_aes_gcm_under_the_stored_key_with_an_hmac_nonce(sealed_store):
    """What is sealed is what the module says, checked with the standard library's HMAC and a
    key read from the tables: so text sealed before and after a change of how it is computed is
    the same bytes (a rebuild of an old database writes what its inline path wrote)."""
    keys = keys_of(sealed_store.conn)
    text = "Some <em>news</em> text. " * 40  # longer than a hash block
    with write_transaction(sealed_store.conn):
        sealed = keys.seal("secret/4", text)
    conn = sealed_store.conn
    group, wrapped = conn.execute("SELECT grp, wrapped FROM stream_keys WHERE stream_id = ?",
                                  ("secret/4",)).fetchone()
    kek = conn.execute("SELECT kek FROM key_groups WHERE grp = ?", (group,)).fetchone()[0]
    key = aes_key_unwrap(bytes(kek), bytes(wrapped))
    nonce = hmac.new(key, text.encode(), hashlib.sha256).digest()[:12]
    expected = AESGCM(key).encrypt(nonce, text.encode(), b"secret/4")
    assert sealed == PREFIX + base64.b64encode(nonce + expected).decode()
    assert keys.open("secret/4", sealed) == text


def test_destroying_a_key_leaves_its_copies_noise_and_its_group_readable(sealed_store,
                                                                           database):
    streams = [f"secret/{i}" for i in range(GROUPS * 3)]
    group = group_of(streams[0])
    neighbours = [s for s in streams[1:] if group_of(s) == group]
    assert neighbours  # the test would prove nothing about re-wrapping otherwise
    for stream in [streams[0], *neighbours]:
        sealed_store.append(stream, [NewEvent("Said", {"text": stream})])
    keys = keys_of(sealed_store.conn)
    before = sealed_store.conn.execute("SELECT kek FROM key_groups WHERE grp = ?",
                                       (group,)).fetchone()[0]
    copy = _stored(sealed_store, streams[0])[0]
    assert sealed_store.destroy_key(streams[0]) is True
    after = sealed_store.conn.execute("SELECT kek FROM key_groups WHERE grp = ?",
                                      (group,)).fetchone()[0]
    assert bytes(after) != bytes(before)  # the group's key is new
    with pytest.raises(SealedContentError):
        keys.open(streams[0], copy)
    fresh = EventStore.open(database, sealed=_sealed)
    try:
        for stream in neighbours:  # re-wrapped under the new group key: still readable
            assert [e.data for e in fresh.read_stream(stream)] == [{"text": stream}]
        with pytest.raises(SealedContentError):
            list(fresh.read_stream(streams[0]))
    finally:
        fresh.close()


def test_a_key_made_in_a_rolled_back_transaction_is_never_used(sealed_store, database):
    class Refused(Exception):
        pass

    with pytest.raises(Refused), write_transaction(sealed_store.conn):
        sealed_store.append("secret/r", [NewEvent("Said", {"text": "first try"})])
        raise Refused
    assert sealed_store.conn.execute("SELECT count(*) FROM stream_keys WHERE stream_id ="
                                     " 'secret/r'").fetchone()[0] == 0
    sealed_store.append("secret/r", [NewEvent("Said", {"text": "second try"})])
    fresh = EventStore.open(database, sealed=_sealed)  # what a restarted process reads
    try:
        assert [e.data for e in fresh.read_stream("secret/r")] == [{"text": "second try"}]
    finally:
        fresh.close()


def test_verify_reads_a_pages_keys_together(database, clock):
    """Verify opens every sealed payload: the keys of a page of them are read a few hundred
    streams a query, not one a row (the 100,000-event mixed log: 60,204 queries before)."""
    writer = EventStore.open(database, clock=clock, sealed=_sealed)
    try:
        for start in range(0, 1200, 100):
            for i in range(start, start + 100):
                writer.append(f"secret/{i}", [NewEvent("Said", {"text": f"name {i}"})])
    finally:
        writer.close()
    store = EventStore.open(database, sealed=_sealed)  # a fresh connection: no key at hand
    try:
        conn = store.conn
        asked: list[str] = []
        execute = conn.execute

        def noting(sql, params=()):
            if "stream_keys" in sql:
                asked.append(sql)
            return execute(sql, params)

        conn.execute = noting
        result = verify(conn)
        assert result.ok and result.events_checked == 1200
        assert 3 <= len(asked) <= 6  # 1,200 streams, 500 a query (a page of 5,000 events)
    finally:
        store.close()
