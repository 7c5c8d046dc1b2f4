"""Proof of work before a reader may write (ALTCHA, with the ``altcha`` package's v1 scheme):
no third-party service, nothing to track a reader by.

``GET /api/challenge`` gives ``{"algorithm": "SHA-256", "challenge", "maxnumber", "salt",
"signature"}``: the challenge is SHA-256(salt + n) for a secret n at most ``maxnumber``, the
signature an HMAC of it with a key only the service knows (from ``SECRET_KEY``, the same on
every node). The reader's browser finds n by trying (static/audience.js: about a second) and
sends ``base64(JSON {algorithm, challenge, number, salt, signature})`` with its question. A
solution is accepted once: its signature is recorded until the challenge expires
(``spent_challenges``), so a replayed one is refused on every node.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from altcha.v1 import ChallengeOptions, create_challenge, verify_solution

from events import Connection, format_time

#: how long a challenge may be solved and used
LIFETIME = timedelta(minutes=10)
#: the largest n: a browser tries half of them on average (about half a second here)
MAX_NUMBER = 50_000


class ChallengeError(ValueError):
    """The solution is missing, malformed, wrong, expired or already used."""


def key(secret: str, purpose: str) -> bytes:
    """A key for one purpose, derived from the service's SECRET_KEY."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


def new(secret: str, now: datetime) -> dict[str, Any]:
    """A fresh challenge, expiring LIFETIME from now."""
    challenge = create_challenge(ChallengeOptions(hmac_key=key(secret, "altcha"),
                                                  max_number=MAX_NUMBER, expires=now + LIFETIME))
    return {"algorithm": challenge.algorithm, "challenge": challenge.challenge,
            "maxnumber": challenge.max_number, "salt": challenge.salt,
            "signature": challenge.signature}


def spend(conn: Connection, secret: str, payload: Any, now: datetime) -> None:
    """Accept a solution once: check it, and record it as spent in the caller's transaction.

    :raises ChallengeError: it is not a valid, unexpired, unspent solution.
    """
    if not isinstance(payload, str) or len(payload) > 2000:
        raise ChallengeError("Solve the challenge (GET /api/challenge) and send its solution.")
    try:
        fields = json.loads(base64.b64decode(payload, validate=True))
    except (ValueError, TypeError):
        raise ChallengeError("The solution is not one (base64 JSON).") from None
    if not isinstance(fields, dict) or not isinstance(fields.get("number"), int) \
            or fields.get("algorithm") != "SHA-256":
        raise ChallengeError("The solution is not one.")
    ok, _ = verify_solution(payload, key(secret, "altcha"), check_expires=False)
    if not ok:
        raise ChallengeError("The solution is wrong: solve a new challenge.")
    # expiry by the service's clock (the package's own check reads the machine's); the salt
    # is signed, so its expiry is the one the service gave
    salt = str(fields.get("salt", ""))
    expires = parse_qs(salt.split("?", 1)[1] if "?" in salt else "").get("expires") or ["0"]
    try:
        expired = int(expires[-1]) < now.timestamp() or len(expires) != 1
    except ValueError:
        expired = True
    if expired:
        raise ChallengeError("The challenge has expired: solve a new one.")
    conn.execute("DELETE FROM spent_challenges WHERE expires_at < ?", (format_time(now),))
    taken = conn.execute("INSERT INTO spent_challenges (signature, expires_at) VALUES (?, ?)"
                         " ON CONFLICT (signature) DO NOTHING",
                         (str(fields["signature"]), format_time(now + LIFETIME))).rowcount
    if taken == 0:
        raise ChallengeError("This solution was used already: solve a new challenge.")
