"""Whether storage takes this process's writes (``/healthz`` reports it; a write refused by
storage is answered 503 until one succeeds again)."""

from __future__ import annotations


class WriteHealth:
    """Whether storage took this process's last write: a write refused because storage could
    not take it (full, read-only, down) marks writes failing until one succeeds again."""

    def __init__(self) -> None:
        #: why the last write failed; None while writes succeed
        self.detail: str | None = None

    @property
    def failing(self) -> bool:
        """True from a write storage refused until one it takes."""
        return self.detail is not None

    def failed(self, error: BaseException) -> None:
        """A write was refused by storage."""
        self.detail = str(error).splitlines()[0] if str(error) else type(error).__name__

    def succeeded(self) -> None:
        """A write was committed."""
        self.detail = None
