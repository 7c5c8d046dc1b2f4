"""The log as a transparency log: an RFC 6962 Merkle tree whose leaf ``i`` is the 32-byte chain
hash of the event at position ``i + 1``, served as C2SP tlog-tiles (c2sp.org/tlog-tiles).

A redaction changes no leaf (the chain hash covers a payload through its hash), so a proof of
inclusion made before a redaction still holds after it.

The pure part (:class:`Tree`, :func:`verify_inclusion`, :func:`verify_consistency`) works on
any source of complete-subtree hashes; :class:`LogTree` is the source over the ``events``
table. It reads leaves from the chain hashes and keeps the hash of every complete subtree of
256, 65,536, ... leaves (tlog-tiles' tile levels) in ``merkle_nodes``, written by
:meth:`LogTree.extend` (never by a read), so any proof or tile costs at most a few hundred
hashes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

from .backends import Connection, write_transaction

#: the root of the empty tree
EMPTY_ROOT = hashlib.sha256(b"").digest()
#: a tile's height (tlog-tiles): a tile at level L holds hashes of subtrees of 256**L leaves
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
#: a tile path's index: 3-digit elements, all but the last prefixed with x
_INDEX = re.compile(r"(?:x\d{3}/)*\d{3}")


def leaf_hash(entry: bytes) -> bytes:
    """RFC 6962: the hash of a leaf, ``SHA-256(0x00 || entry)``."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962: the hash of an interior node, ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two below ``n`` (n > 1): where RFC 6962 splits a tree of n."""
    return 1 << ((n - 1).bit_length() - 1)


def reduce(hashes: Sequence[bytes]) -> bytes:
    """The root of a complete subtree given its 2**k hashes at one level."""
    level = list(hashes)
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


class Tree:
    """The RFC 6962 tree of ``size`` leaves; ``node(level, index)`` gives the hash of the
    complete subtree of the ``2**level`` leaves from ``index * 2**level``."""

    def __init__(self, size: int, node: Callable[[int, int], bytes]) -> None:
        self.size = size
        self.node = node

    def hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range RFC 6962's recursion reaches (its left parts are
        complete subtrees)."""
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            return self.node(n.bit_length() - 1, start // n)
        k = _split(n)
        return node_hash(self.hash(start, start + k), self.hash(start + k, end))

    def root(self) -> bytes:
        return self.hash(0, self.size) if self.size else EMPTY_ROOT

    def inclusion(self, index: int) -> list[bytes]:
        """The audit path of leaf ``index`` (RFC 6962 2.1.1), from the leaf's sibling up."""
        if not 0 <= index < self.size:
            raise ValueError(f"leaf {index} is not in a tree of {self.size}")
        path: list[bytes] = []
        start, end = 0, self.size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                path.append(self.hash(start + k, end))
                end = start + k
            else:
                path.append(self.hash(start, start + k))
                start += k
        return path[::-1]

    def consistency(self, old: int) -> list[bytes]:
        """The consistency proof from the tree's first ``old`` leaves (RFC 6962 2.1.2)."""
        if not 0 <= old <= self.size:
            raise ValueError(f"a tree of {self.size} has no older tree of {old}")
        if old in (0, self.size):
            return []
        proof: list[bytes] = []
        start, end, complete = 0, self.size, True
        m = old
        while m != end - start:
            k = _split(end - start)
            if m <= k:
                proof.append(self.hash(start + k, end))
                end = start + k
            else:
                proof.append(self.hash(start, start + k))
                start, m, complete = start + k, m - k, False
        if not complete:
            proof.append(self.hash(start, end))
        return proof[::-1]


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes],
                     root: bytes) -> bool:
    """RFC 9162 2.1.3.2: does ``proof`` put ``leaf`` at ``index`` of the tree with ``root``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 2.1.4.2: is the tree of ``old`` leaves a prefix of the tree of ``new``?"""
    if not 0 <= old <= new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # an exact power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0


def tile_path(level: int | str, index: int, width: int = TILE_WIDTH) -> str:
    """tlog-tiles' path of a tile (``level`` may be ``"entries"``): ``1/x001/x234/067.p/5``."""
    digits = f"{index:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    parts = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    path = "/".join([f"x{p}" for p in parts[:-1]] + parts[-1:])
    return f"{level}/{path}" + (f".p/{width}" if width < TILE_WIDTH else "")


def parse_tile_index(path: str) -> tuple[int, int]:
    """The index and width a tile path's ``<N>[.p/<W>]`` names.

    :raises ValueError: not a tile index tlog-tiles allows.
    """
    index, dot, width_text = path.partition(".p/")
    if not _INDEX.fullmatch(index):
        raise ValueError("a tile index is 3-digit path elements, all but the last x-prefixed")
    number = int(index.replace("x", "").replace("/", ""))
    if dot:
        if not re.fullmatch(r"[1-9]\d{0,2}", width_text) or int(width_text) >= TILE_WIDTH:
            raise ValueError("a partial tile's width is 1 to 255")
        return number, int(width_text)
    return number, TILE_WIDTH


class LogTree:
    """The Merkle tree of the log in ``conn``: leaf ``i`` is the chain hash of position
    ``i + 1``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def tree(self, size: int) -> Tree:
        return Tree(size, self.node)

    def entries(self, start: int, end: int) -> list[bytes]:
        """The leaves' entries (the raw chain hashes) of ``D[start:end]``."""
        rows = self.conn.execute("SELECT hash FROM events WHERE position > ? AND position <= ?"
                                 " ORDER BY position", (start, end)).fetchall()
        if len(rows) != end - start:
            raise ValueError(f"the log has no leaves {start} to {end}")
        return [bytes.fromhex(row[0]) for row in rows]

    def node(self, level: int, index: int) -> bytes:
        if level <= TILE_HEIGHT:
            start = index << level
            return reduce([leaf_hash(e) for e in self.entries(start, start + (1 << level))])
        stored = level - level % TILE_HEIGHT
        count = 1 << (level - stored)
        return reduce(self._stored(stored, index * count, (index + 1) * count))

    def _stored(self, level: int, start: int, end: int) -> list[bytes]:
        """The hashes of the complete subtrees of ``2**level`` leaves (``level`` a multiple of
        8), ``start`` to ``end``: kept ones read, missing ones computed (not kept)."""
        kept = dict(self.conn.execute(
            "SELECT idx, hash FROM merkle_nodes WHERE level = ? AND idx >= ? AND idx < ?",
            (level, start, end)).fetchall())
        return [bytes(kept[i]) if i in kept else self._compute(level, i)
                for i in range(start, end)]

    def _compute(self, level: int, index: int) -> bytes:
        below = level - TILE_HEIGHT
        if below == 0:
            return self.node(TILE_HEIGHT, index)  # from its 256 leaves
        return reduce(self._stored(below, index * TILE_WIDTH, (index + 1) * TILE_WIDTH))

    def tile(self, level: int, index: int, width: int) -> bytes:
        """Tile ``index`` of ``level`` (tlog-tiles), ``width`` hashes wide."""
        start = index * TILE_WIDTH
        if level == 0:
            return b"".join(leaf_hash(e) for e in self.entries(start, start + width))
        return b"".join(self._stored(level * TILE_HEIGHT, start, start + width))

    def bundle(self, index: int, width: int) -> bytes:
        """Entry bundle ``index``: each entry as a big-endian uint16 length and its bytes."""
        start = index * TILE_WIDTH
        return b"".join(len(e).to_bytes(2, "big") + e for e in self.entries(start, start + width))

    def extend(self, size: int) -> int:
        """Keep the hash of every complete subtree of 256**k leaves (k >= 1) within the first
        ``size`` leaves that is not kept yet; returns how many were added. The hashes are
        computed outside any transaction (appends go on), then written in a short one."""
        added = 0
        level = TILE_HEIGHT
        while size >> level:
            row = self.conn.execute("SELECT max(idx) FROM merkle_nodes WHERE level = ?",
                                    (level,)).fetchone()
            first = 0 if row[0] is None else int(row[0]) + 1
            for chunk in range(first, size >> level, 1024):
                rows = [(level, index, self._compute(level, index))
                        for index in range(chunk, min(chunk + 1024, size >> level))]
                with write_transaction(self.conn):
                    self.conn.executemany("INSERT INTO merkle_nodes (level, idx, hash)"
                                          " VALUES (?, ?, ?) ON CONFLICT DO NOTHING", rows)
                added += len(rows)
            level += TILE_HEIGHT
        return added
