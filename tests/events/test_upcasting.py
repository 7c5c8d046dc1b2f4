"""Schema evolution: old payloads are lifted on read; the stored rows never change."""

from __future__ import annotations

import pytest

from events import EventStore, NewEvent, Upcasters, verify


def test_upcasters_lift_old_payloads_on_read_only(db_path, clock):
    old = EventStore.open(db_path, clock=clock)
    old.append("a", [NewEvent("Renamed", {"name": "Ada Lovelace"}, schema_version=1)])
    stored_before = old.conn.execute("SELECT data, hash FROM events").fetchone()
    old.close()

    upcasters = Upcasters()

    @upcasters.upcaster("Renamed", 1)
    def split_name(data):
        first, _, last = data["name"].partition(" ")
        return {"first": first, "last": last}

    upcasters.register("Renamed", 2, lambda d: {**d, "display": f"{d['first']} {d['last']}"})
    new = EventStore.open(db_path, clock=clock, upcasters=upcasters)
    [event] = new.read_all()
    assert event.schema_version == 3
    assert event.data == {"first": "Ada", "last": "Lovelace", "display": "Ada Lovelace"}
    assert new.conn.execute("SELECT data, hash FROM events").fetchone() == stored_before
    assert verify(new.conn).ok
    [fresh] = new.append("a", [NewEvent("Renamed", {"name": "Grace Hopper"})])
    assert fresh.data["display"] == "Grace Hopper"  # appended v1 events are lifted too
    new.close()


def test_registering_a_step_twice_raises():
    upcasters = Upcasters()
    upcasters.register("T", 1, dict)
    with pytest.raises(ValueError):
        upcasters.register("T", 1, dict)
