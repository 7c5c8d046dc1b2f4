"""Schema evolution: upcasters lift an old payload to the newest shape when it is read.

The log is never rewritten; readers (the API, projections) only ever see the newest shape.
"""

from __future__ import annotations

from collections.abc import Callable

from .records import JSONDict

Upcaster = Callable[[JSONDict], JSONDict]


class Upcasters:
    """A registry of ``(type, from_version) -> function(data) -> data`` steps."""

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Upcaster] = {}

    def register(self, type: str, from_version: int, step: Upcaster) -> None:
        """Register the step that lifts ``type`` payloads from ``from_version`` to the next.

        :raises ValueError: when a step for that type and version is already registered.
        """
        if (type, from_version) in self._steps:
            raise ValueError(f"an upcaster for {type} v{from_version} is already registered")
        self._steps[(type, from_version)] = step

    def upcaster(self, type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator form of :meth:`register`."""

        def wrap(step: Upcaster) -> Upcaster:
            self.register(type, from_version, step)
            return step

        return wrap

    def upcast(self, type: str, schema_version: int, data: JSONDict) -> tuple[int, JSONDict]:
        """Apply every registered step from ``schema_version`` on.

        :returns: the resulting schema version and payload.
        """
        steps = self._steps
        while (type, schema_version) in steps:
            data = steps[(type, schema_version)](data)
            schema_version += 1
        return schema_version, data

    def __bool__(self) -> bool:
        return bool(self._steps)
