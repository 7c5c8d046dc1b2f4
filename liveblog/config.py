"""Settings: each declared once with its default and a line of help.

Every key can be set from the environment as LIVEBLOG_<KEY> (values are parsed as JSON when they
parse, so LIVEBLOG_CACHE_MAX_AGE=5 is the number 5).
"""

from __future__ import annotations

from typing import Any

from .domain.events import DEFAULT_ARCHIVE_AFTER_DAYS

SETTINGS: dict[str, tuple[Any, str]] = {
    "DATABASE": ("liveblog.db", "where the log and projections live: a SQLite file path (the "
                                "embedded default) or a postgresql:// URL shared by all nodes"),
    "SYNCHRONOUS": ("FULL", "SQLite synchronous: FULL (survives power loss) or NORMAL; "
                            "PostgreSQL uses the server's synchronous_commit"),
    "MAX_CONTENT_LENGTH": (1024 * 1024, "largest request body accepted, in bytes (else 413)"),
    "MEDIA_MAX_BYTES": (10 * 1024 * 1024, "largest image an editor may upload (POST /api/media),"
                                          " in bytes (else 413)"),
    "CACHE_MAX_AGE": (2, "max-age (s) of reader responses in Cache-Control"),
    "CACHE_STALE_WHILE_REVALIDATE": (30, "stale-while-revalidate (s) of reader responses"),
    "ARCHIVE_AFTER_DAYS": (DEFAULT_ARCHIVE_AFTER_DAYS,
                           "a new blog's archive_after_days when it gives none: closed by the "
                           "scheduler after that many days without a visible change (null: "
                           "never)"),
    "CLOSED_CACHE_MAX_AGE": (8, "max-age (s) of a closed blog's pages, Atom and their slow "
                                "poll (a shared cache keeps them half that): a redaction or a "
                                "reopen reaches every reader within about 1.5 times this"),
    "FEED_CACHE_SIZE": (512, "rendered anonymous feed and /changes answers kept per process, "
                             "by ETag (which names the blog's version)"),
    "LONG_POLL_MAX_WAITERS": (10_000, "long polls (/changes?wait=) held at once per process; "
                                      "more answer at once (under `serve` a held poll costs a "
                                      "greenlet and a socket, no thread)"),
    "SCHEDULER_SYNC_SECONDS": (1.0, "how often the scheduler publishes what is due and arms "
                                    "jobs for newly scheduled posts"),
    "SCHEDULER_LEASE_SECONDS": (10.0, "how long one process's claim to run the jobs lasts "
                                      "without renewal (one scheduler per database)"),
    "AUDIT_CHECKPOINT_SECONDS": (300.0, "how often the chain's head is signed and kept as an "
                                        "audit checkpoint (when it moved)"),
    "AUDIT_SIGNING_KEY": ("", "the Ed25519 key that signs audit checkpoints: base64 of its 32-byte"
                              " seed, or PEM (unset: one is made on first start and kept in the "
                              "database)"),
    "LONG_POLL_INTERVAL": (0.25, "how often (s) each process looks at a SQLite file for a change "
                                 "(one look wakes every long poll it holds)"),
    "PUBLIC_URL": ("", "where readers reach the service (https://live.example.com): every absolute "
                       "URL written starts with it, none is built from a request's Host "
                       "(`serve` uses http://HOST:PORT when unset)"),
    "TRUSTED_PROXIES": ([], "addresses of the proxies whose X-Forwarded-For counts (the client's "
                            "address for rate limits); from others it is ignored"),
    "AUTH_FAILURE_LIMIT": (10, "failed authentications from one client address within "
                               "AUTH_FAILURE_WINDOW before its token requests are answered 429"),
    "AUTH_FAILURE_WINDOW": (60.0, "the window (s) failed authentications are counted in"),
    "METRICS_ALLOWED_NETWORKS": (["127.0.0.0/8", "::1/128"],
                                 "networks (CIDR) whose clients may read GET /metrics without a"
                                 " token (an auditor token may, from anywhere)"),
    "OIDC_ISSUER": ("", "the newsroom's OpenID Connect provider (https://; http:// only on a "
                        "loopback address): people sign in at /login (unset: tokens only). "
                        "Also read from OIDC_ISSUER, as are the other OIDC_ settings"),
    "OIDC_CLIENT_ID": ("", "this service's client id at the provider"),
    "OIDC_CLIENT_SECRET": ("", "its client secret"),
    "OIDC_SCOPES": ("openid profile email", "the scopes asked for (add the one that carries "
                                            "groups where the provider needs it)"),
    "OIDC_GROUPS_CLAIM": ("groups", "the ID token claim that lists the person's groups"),
    "OIDC_ROLE_MAP": ("", "groups -> roles: 'newsroom-admins=admin;politics-desk=editor:"
                          "election-night;interns=contributor:election-night,contributor:"
                          "results;standards=auditor'"),
    "OIDC_PROVIDER_NAME": ("your newsroom", "how the console's sign-in button names the "
                                            "provider (\"Sign in with ...\")"),
    "SECRET_KEY": ("", "signs the short-lived sign-in state cookie (unset: one is made on first"
                       " start and kept in the database, shared by every node)"),
    "OEMBED_PROVIDERS": ("", "a JSON file in the shape of oembed.com's providers.json: its "
                             "entries add to, or replace by name, the built-in providers"),
    "OEMBED_TIMEOUT": (3.0, "seconds a save waits for every embed's provider together; a "
                            "slower one leaves a link card"),
    "OEMBED_ALLOW_PRIVATE": (False, "let oEmbed fetches reach private, loopback and link-local"
                                    " addresses: true, or a list of networks (CIDR)"),
    "OEMBED_META_TOKEN": ("", "the app access token Instagram's and Facebook's oEmbed need"),
    "OEMBED_CACHE_SECONDS": (86400, "how long a provider's answer for a URL is used before it "
                                    "is asked again (a failing provider's stays in use)"),
    "WEBHOOK_TIMEOUT": (10.0, "seconds a partner's endpoint has to answer a delivery"),
    "WEBHOOK_RETRY_DELAYS": ([5, 30, 120, 600, 1800, 3600, 10800, 21600, 43200],
                             "seconds to wait after the 1st, 2nd, ... failure in a row (the "
                             "last one repeats)"),
    "WEBHOOK_GIVE_UP_SECONDS": (259200, "a webhook failing this long (3 days) is disabled"),
    "WEBHOOK_ALLOW_PRIVATE": (False, "allow webhook URLs on private, loopback and link-local "
                                     "addresses (a newsroom's own network; tests)"),
    "WEBHOOK_DELIVERY_SECONDS": (1.0, "how often the scheduler looks for webhooks to deliver"),
    "LOG_FORMAT": ("text", "the access log's lines (`serve --access-log`): text, as a web server"
                           " writes them, or json (time, request_id, method, route, status,"
                           " duration_ms, bytes, actor, client)"),
}

DEFAULTS: dict[str, Any] = {key: default for key, (default, _) in SETTINGS.items()}
