"""The hash chain: verify() on a clean log, and tampering caught at exactly its position."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events import GENESIS_HASH, NewEvent, canonical, verify
from events.chain import seal
from events.encoding import _has_long_integer, parse

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


def fill(store, n=12):
    for i in range(n):
        store.append(f"s{i % 3}", [NewEvent("Added", {"amount": i, "text": "naïve ☃"},
                                            {"actor": "t"})])


def tamper(store, sql, params=()):
    from tests.events.tampering import tamper as behind_the_store

    behind_the_store(store.conn, sql, params)


def test_hash_is_sha256_of_the_canonical_record(store):
    [event] = store.append("a", [NewEvent("Added", {"b": 1, "a": "é"}, {"z": 1})])
    # chain v2: the record holds the SHA-256 of the payload's canonical text, not the payload
    data_hash = hashlib.sha256(canonical({"b": 1, "a": "é"}).encode()).hexdigest()
    record = {
        "position": 1, "stream_id": "a", "version": 1, "type": "Added", "schema_version": 1,
        "data_hash": data_hash, "metadata": {"z": 1},
        "recorded_at": "2022-01-21T13:31:00.000000Z", "prev_hash": GENESIS_HASH,
    }
    expected = hashlib.sha256(canonical(record).encode()).hexdigest()
    assert event.hash == expected
    stored = store.conn.execute("SELECT data_hash, legacy_hash, redacted FROM events").fetchone()
    assert tuple(stored) == (data_hash, None, 0)
    assert canonical({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'


@given(value=json_values)
def test_parse_reads_back_what_canonical_wrote(value):
    assert parse(canonical(value)) == value
    assert parse(json.dumps(value, indent=1)) == value


@given(text=st.text(max_size=30) | st.sampled_from(
    [' {"a":1}', '{"a":1} ', '{"a":1}x', "[1,2", "NaN", "", "  ", '"\ud800"', "1 2"]))
def test_parse_accepts_and_refuses_exactly_what_json_loads_does(text):
    try:
        expected = json.loads(text)
    except json.JSONDecodeError:
        with pytest.raises(json.JSONDecodeError):
            parse(text)
    else:
        if _has_long_integer(expected):
            return  # never in the log: append and import refuse them (below)
        assert parse(text) == expected or (expected != expected)  # NaN is not equal to itself


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, {"a": [1, 10**30]}])
def test_integers_past_64_bits_are_refused_on_append(store, value):
    with pytest.raises(ValueError, match="between"):
        store.append("a", [NewEvent("Added", {"amount": value})])
    with pytest.raises(ValueError, match="between"):
        store.append("a", [NewEvent("Added", {"amount": 1}, {"request": value})])
    assert store.is_empty()
    store.append("a", [NewEvent("Added", {"amount": 2**64 - 1, "low": -(2**63)})])
    assert next(store.read_all()).data == {"amount": 2**64 - 1, "low": -(2**63)}


@given(stream=st.text(min_size=1), type_=st.text(min_size=1), data=json_values,
       metadata=st.dictionaries(st.text(), json_values, max_size=3),
       schema_version=st.integers(1, 2**40), position=st.integers(0, 2**53),
       version=st.integers(0, 2**40))
def test_sealed_hash_is_sha256_of_the_canonical_record(stream, type_, data, metadata,
                                                       schema_version, position, version):
    recorded_at = "2022-01-21T13:31:00.000000Z"
    [row] = seal(stream, recorded_at, position, version, GENESIS_HASH,
                 [(type_, schema_version, canonical(data), canonical(metadata))])
    record = {
        "position": position + 1, "stream_id": stream, "version": version + 1, "type": type_,
        "schema_version": schema_version,
        "data_hash": hashlib.sha256(canonical(data).encode()).hexdigest(),
        "metadata": metadata, "recorded_at": recorded_at, "prev_hash": GENESIS_HASH,
    }
    assert row[9] == hashlib.sha256(canonical(record).encode()).hexdigest()
    assert row[10] == record["data_hash"]


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
