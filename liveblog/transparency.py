"""Proof of publication: the log served as a C2SP transparency log, signed with the audit key.

The tree is the event store's (:mod:`events.tlog`): leaf ``i`` is the chain hash of position
``i + 1``. This module gives it an identity (the origin ``<host of PUBLIC_URL>/log``, the key
name the same), signs checkpoints (C2SP signed notes) and keeps them (``log_checkpoints``),
offers them to witnesses (c2sp.org/tlog-witness) and makes proofs of single events.

It never signs a fork: before a checkpoint is signed, the tree must hold, unchanged, the tree
of the last checkpoint signed, as the database remembers it and as a file outside the
database remembers it (``LOG_STATE_FILE``; beside a SQLite file by default). A database
restored from an older backup that then took new events fails that check; signing stops and
says why, until the newer database is back or the operator starts a new log (a new origin).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from events import Connection, note, tlog, write_transaction

log = logging.getLogger(__name__)

#: how long a witness may take to answer
WITNESS_TIMEOUT = 5.0


class ForkError(RuntimeError):
    """The log is not an extension of a tree this service signed before."""


@dataclass(frozen=True)
class Witness:
    """A tlog-witness: where to submit checkpoints, and its cosigning key (a type 0x04 vkey)."""

    url: str
    verifier: note.Verifier


def parse_witness(text: str) -> Witness:
    """``<submission URL> <vkey>``.

    :raises ValueError: not a URL and a witness's Ed25519 cosignature vkey.
    """
    url, _, vkey = text.strip().partition(" ")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{url!r} is not an http(s) URL")
    verifier = note.parse_vkey(vkey.strip())
    if verifier.kind != note.COSIGNATURE:
        raise ValueError("a witness's vkey is a cosignature key (type 0x04)")
    return Witness(url.rstrip("/"), verifier)


def origin_of(public_url: str) -> str:
    """The log's origin: the host (and port) of where readers reach us, then ``/log``."""
    return (urlsplit(public_url).netloc or "localhost") + "/log"


@dataclass(frozen=True)
class Signed:
    """A checkpoint this service signed, with the witnesses' cosignatures it gathered."""

    size: int
    root: bytes
    note: str
    signed_at: str


class Publication:
    """The log's identity and signing: one per app (``app.extensions["liveblog.log"]``)."""

    def __init__(self, origin: str, private: Any, *, state_file: str | None = None,
                 witnesses: tuple[Witness, ...] = ()) -> None:
        self.origin = origin
        self.signer = note.NoteSigner(origin, private)
        self.verifier = self.signer.verifier
        self.state_file = Path(state_file) if state_file else None
        self.witnesses = witnesses

    def latest(self, conn: Connection) -> Signed | None:
        row = conn.execute("SELECT size, root, note, signed_at FROM log_checkpoints"
                           " ORDER BY size DESC LIMIT 1").fetchone()
        return None if row is None else Signed(int(row[0]), bytes(row[1]), row[2], row[3])

    def _remembered(self) -> Signed | None:
        """The last checkpoint signed, as the file outside the database has it."""
        if self.state_file is None or not self.state_file.exists():
            return None
        try:
            data = json.loads(self.state_file.read_text())
            return Signed(int(data["size"]), base64.b64decode(data["root"]), data["note"],
                          data["signed_at"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ForkError(f"{self.state_file} cannot be read ({e}): it holds the last"
                            " checkpoint signed, without which a fork cannot be ruled out"
                            ) from None

    def _remember(self, signed: Signed) -> None:
        if self.state_file is None:
            return
        remembered = self._remembered()
        if remembered is not None and remembered.size >= signed.size:
            return
        temporary = self.state_file.with_name(self.state_file.name + ".tmp")
        temporary.write_text(json.dumps({"size": signed.size, "signed_at": signed.signed_at,
                                         "root": base64.b64encode(signed.root).decode(),
                                         "note": signed.note}))
        os.replace(temporary, self.state_file)

    def sign(self, conn: Connection, now: str) -> Signed | None:
        """Sign the log's current tree and keep it, when it grew since the last checkpoint.

        :raises ForkError: the log does not extend a tree signed before (nothing is signed).
        """
        head = conn.execute("SELECT max(position) FROM events").fetchone()[0] or 0
        last = self.latest(conn)
        priors = [s for s in (last, self._remembered()) if s is not None]
        if last is not None and head == last.size and all(p.size <= head for p in priors):
            return None  # nothing new (a fork of the same size shows with the next event)
        tree = tlog.LogTree(conn)
        tree.extend(head)
        for prior in priors:
            self._check_extends(tree, head, prior)
        checkpoint = note.Checkpoint(self.origin, head, tree.tree(head).root())
        signed = Signed(head, checkpoint.root, self.signer.sign(checkpoint.text()), now)
        with write_transaction(conn):
            conn.execute("INSERT INTO log_checkpoints (size, root, note, signed_at)"
                         " VALUES (?, ?, ?, ?) ON CONFLICT (size) DO NOTHING",
                         (signed.size, signed.root, signed.note, signed.signed_at))
        self._remember(signed)
        return signed

    def _check_extends(self, tree: tlog.LogTree, head: int, prior: Signed) -> None:
        why = None
        if prior.size > head:
            why = (f"a checkpoint of {prior.size} events was signed at {prior.signed_at}, and"
                   f" this log has {head}")
        elif tree.tree(prior.size).root() != prior.root:
            why = (f"the first {prior.size} events are not those of the checkpoint signed at"
                   f" {prior.signed_at}")
        if why is not None:
            raise ForkError(f"refusing to sign a checkpoint of {self.origin}: {why}; the"
                            " database is not the log that was published (restored from an"
                            " older backup?). Restore the newest backup, or start a new log"
                            " under a new origin.")

    def cosign(self, conn: Connection, signed: Signed) -> Signed:
        """Offer ``signed`` to each witness that has not cosigned it, with a consistency proof
        from the last tree it cosigned; the cosignatures that verify join the kept checkpoint
        (a checkpoint signed on demand, by a proof or a first reader, is offered here too)."""
        text, _ = note.split_note(signed.note)
        lines = []
        sizes = dict(conn.execute("SELECT name, size FROM log_witnesses").fetchall())
        for witness in self.witnesses:
            if sizes.get(witness.verifier.name, -1) >= signed.size:
                continue
            try:
                lines += self._offer(conn, witness, signed, text)
            except (OSError, ValueError, urllib.error.URLError) as e:
                log.warning("witness %s did not cosign the checkpoint of %d: %s",
                            witness.verifier.name, signed.size, e)
        if not lines:
            return signed
        cosigned = Signed(signed.size, signed.root, signed.note + "".join(lines),
                          signed.signed_at)
        with write_transaction(conn):
            conn.execute("UPDATE log_checkpoints SET note = ? WHERE size = ?",
                         (cosigned.note, cosigned.size))
        return cosigned

    def _offer(self, conn: Connection, witness: Witness, signed: Signed,
               text: str) -> list[str]:
        row = conn.execute("SELECT size FROM log_witnesses WHERE name = ?",
                           (witness.verifier.name,)).fetchone()
        old = 0 if row is None else int(row[0])
        tree = tlog.LogTree(conn).tree(signed.size)
        for _ in range(2):  # the second time from the size the witness says it has
            if old > signed.size:
                raise ValueError(f"the witness has cosigned a tree of {old} events, larger"
                                 f" than this log's {signed.size}: a fork")
            proof = "".join(base64.b64encode(h).decode() + "\n" for h in tree.consistency(old))
            body = f"old {old}\n{proof}\n{signed.note}".encode()
            request = urllib.request.Request(f"{witness.url}/add-checkpoint", data=body,
                                             method="POST")
            try:
                with urllib.request.urlopen(request, timeout=WITNESS_TIMEOUT) as answer:
                    reply = answer.read().decode()
            except urllib.error.HTTPError as e:
                if e.code != 409:
                    raise ValueError(f"it answered {e.code}: {e.read()[:200]!r}") from None
                old = int(e.read().decode().strip())
                continue
            lines = [s.line() for s in note.split_note(text + "\n" + reply)[1]
                     if _cosigned_by(text, s, witness)]
            with write_transaction(conn):
                conn.execute("INSERT INTO log_witnesses (name, size) VALUES (?, ?)"
                             " ON CONFLICT (name) DO UPDATE SET size = excluded.size",
                             (witness.verifier.name, signed.size))
            return lines
        raise ValueError("it keeps answering that it has another tree size")

    def covering(self, conn: Connection, position: int, now: str) -> Signed:
        """A checkpoint whose tree holds ``position``: the latest, or one signed now.

        :raises ForkError: none holds it, and signing is refused.
        """
        signed = self.latest(conn)
        if signed is None or signed.size < position:
            signed = self.sign(conn, now) or self.latest(conn)
        assert signed is not None and signed.size >= position
        return signed


def _cosigned_by(text: str, signature: note.Signature, witness: Witness) -> bool:
    try:
        note.check_cosignature(text, signature, witness.verifier)
    except note.NoteError:
        return False
    return True
