"""Export to JSON Lines and import into an empty store, refusing broken chains."""

from __future__ import annotations

import io
import json

import pytest

from events import (
    ChainError,
    EventStore,
    NewEvent,
    StoreNotEmptyError,
    export_jsonl,
    import_jsonl,
    verify,
)


def exported(store, n=5):
    for i in range(n):
        store.append(f"s{i % 2}", [NewEvent("Added", {"amount": i, "t": "ü"})],
                     idempotency_key=f"k{i}", fingerprint="fp")
    out = io.StringIO()
    assert export_jsonl(store, out) == n
    return out.getvalue().splitlines()


def test_export_then_import_gives_the_same_head_and_idempotency(store, tmp_path):
    lines = exported(store)
    assert json.loads(lines[0])["position"] == 1
    copy = EventStore.open(tmp_path / "copy.db")
    head = import_jsonl(copy, lines)
    assert head == store.head() == verify(copy.conn).head
    again = copy.append("s0", [NewEvent("Added", {"amount": 0, "t": "ü"})],
                        idempotency_key="k0", fingerprint="fp")
    assert again[0].position == 1 and copy.head() == head


@pytest.mark.parametrize("line,change", [
    (3, lambda r: r["data"].update(amount=999)),
    (2, lambda r: r.update(prev_hash="0" * 64)),
    (4, lambda r: r.update(position=9)),
    (1, lambda r: r.pop("hash")),
    (5, lambda r: r.update(version="two")),
])
def test_import_refuses_a_broken_chain_naming_the_line(store, tmp_path, line, change):
    lines = exported(store)
    record = json.loads(lines[line - 1])
    change(record)
    lines[line - 1] = json.dumps(record)
    copy = EventStore.open(tmp_path / "copy.db")
    with pytest.raises(ChainError) as info:
        import_jsonl(copy, lines)
    assert info.value.line == line
    assert copy.is_empty()


def test_import_refuses_garbage_and_non_empty_stores(store, tmp_path):
    lines = exported(store)
    copy = EventStore.open(tmp_path / "copy.db")
    with pytest.raises(ChainError) as info:
        import_jsonl(copy, lines[:2] + ["{not json"])
    assert info.value.line == 3 and copy.is_empty()
    with pytest.raises(StoreNotEmptyError):
        import_jsonl(store, lines)


def test_import_refuses_integers_past_64_bits_naming_the_line(store, tmp_path):
    from events.chain import record_hash
    from events.encoding import canonical

    lines = exported(store, 3)
    record = json.loads(lines[1])
    record["data"]["amount"] = 10**25
    # a forger can recompute the chain: the integer is refused all the same
    record["hash"] = record_hash(record["position"], record["stream_id"], record["version"],
                                 record["type"], record["schema_version"],
                                 canonical(record["data"]), canonical(record["metadata"]),
                                 record["recorded_at"], record["prev_hash"])
    fresh = EventStore.open(tmp_path / "fresh.db")
    with pytest.raises(ChainError, match="line 2") as info:
        import_jsonl(fresh, [lines[0], json.dumps(record)])
    assert "between" in str(info.value)
    assert fresh.is_empty()
    fresh.close()
