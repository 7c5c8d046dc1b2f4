"""The ``liveblog`` command line. Every command takes --db and fails with one line on bad input."""

from __future__ import annotations

import functools
import getpass
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import click

from events import (
    SCHEMA_VERSION,
    EventStoreError,
    check_name,
    database_errors,
    export_jsonl,
    format_time,
    import_jsonl,
    is_postgres,
    write_transaction,
)
from events import verify as verify_chain
from events.backends import is_read_only_error, remove_files
from events.jsonl import export_lines

from . import checkpoints, media, queries
from .app import create_app
from .audit import feed_as_of, resolve_as_of
from .backups import BackupError
from .backups import backup as take
from .backups import restore as load
from .bootstrap import bootstrap, pending_upgrade, publication, upgrade
from .config import DEFAULTS, SettingError, from_environ
from .cursors import MalformedCursorError
from .demo import ensure_demo
from .domain.errors import BlogNotFoundError, DomainError
from .domain.events import ROLES
from .imports import checker
from .proofs import ProofError, check_blog_proof, prove_blog
from .queries import find_blog_head
from .scheduler import build_scheduler
from .server import (
    DEFAULT_CONNECTIONS,
    DEFAULT_WORKERS,
    metrics_directory,
    run_server,
    shown,
)
from .service import Actor
from .tokens import create_token, list_tokens, revoke_token
from .transparency import ForkError

DB_HELP = ("a SQLite file or a postgresql:// URL (else $LIVEBLOG_DB or $LIVEBLOG_DATABASE, else"
           " ./liveblog.db)")
#: the environment's names for --db: the command line's short one and the setting's
DB_NAMES = ("LIVEBLOG_DB", "LIVEBLOG_DATABASE")


def db_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --db to a command."""
    return click.option("--db", "db_path", envvar=list(DB_NAMES), default="liveblog.db",
                        help=DB_HELP)(command)


def check_environment(*, report: bool = True) -> None:
    """Every LIVEBLOG_ setting checked before any command runs: a wrong value stops it with
    one line naming it; a name that is no setting is reported as a likely typo."""
    given = {os.environ[name] for name in DB_NAMES if os.environ.get(name)}
    if len(given) > 1:
        raise click.ClickException("LIVEBLOG_DB and LIVEBLOG_DATABASE name different databases:"
                                   " set one of them")
    try:
        _, unknown = from_environ(os.environ)
    except SettingError as e:
        raise click.ClickException(str(e)) from None
    for line in unknown if report else ():
        click.echo(f"warning: {line}", err=True)


#: errors a user can cause (bad input, a missing file; and a database that does not answer:
#: :func:`events.database_errors`)
_USER_ERRORS: tuple[type[Exception], ...] = (
    DomainError, EventStoreError, MalformedCursorError, ValueError, OSError)


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors a user can cause into one line on stderr and exit status 1."""
    @functools.wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except BaseException as e:
            context = click.get_current_context(silent=True)
            if context is not None and not isinstance(e, SystemExit | click.exceptions.Exit):
                context.meta["liveblog.failed"] = True
            if isinstance(e, (*_USER_ERRORS, *database_errors())):
                raise click.ClickException(
                    str(e).splitlines()[0] if str(e) else repr(e)) from e
            raise

    return wrapped


class _Quiet:
    """A progress bar that shows nothing (stderr is not a terminal: a log, a pipe, CI)."""
    pos = 0

    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def update(self, steps: int) -> None:
        self.pos += steps


def _progress(**options: Any) -> Any:
    """click's progress bar on a terminal; nothing at all elsewhere (click would still print
    its label there)."""
    if sys.stderr.isatty():
        return click.progressbar(**options)
    return _Quiet()


def cli_actor() -> Actor:
    """The actor recorded for commands run from the command line."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor("cli", f"cli:{user}")


def make_app(db_path: str, **config: Any) -> Any:
    """The app on ``db_path`` (migrated, projections current)."""
    return create_app({"DATABASE": db_path, **config})


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="liveblog")
def main() -> None:
    """liveblog: an event-sourced live-blog backend."""
    check_environment(report="--parent" not in sys.argv)  # serve's scheduler: serve reported


@main.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=DEFAULT_WORKERS, show_default=True,
              type=click.IntRange(1, 64), help="gunicorn worker processes")
@click.option("--connections", default=DEFAULT_CONNECTIONS, show_default=True,
              type=click.IntRange(64, 100_000),
              help="connections each worker serves at once (waiting ones cost no thread); an"
                   " eighth is kept for requests other than anonymous long polls")
@click.option("--scheduler/--no-scheduler", default=True, show_default=True,
              help="run the background jobs (scheduled posts, upkeep) in this deployment")
@click.option("--access-log", default=None, metavar="FILE",
              help="write a request log line per request to FILE (- for stderr)")
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None,
              help="log every request to stderr (or --access-log FILE) in this format; also"
                   " on when LIVEBLOG_LOG_FORMAT is set")
@click.option("--migrate/--no-migrate", "migrate", default=None,
              help="upgrade an outdated schema before serving (default: yes on SQLite; no on"
                   " PostgreSQL, where serve waits for `liveblog migrate`)")
@one_line_errors
def serve(db_path: str, host: str, port: int, workers: int, connections: int,
          scheduler: bool, access_log: str | None, log_format: str | None,
          migrate: bool | None) -> None:
    """Run the production server (gunicorn, gevent workers, graceful shutdown)."""
    prepare_schema(db_path, migrate)
    run_server(db_path, host, port, workers, connections, scheduler=scheduler,
               access_log=_request_log(access_log, log_format))


def _request_log(access_log: str | None, log_format: str | None) -> str | None:
    """Where the request log goes: --access-log's FILE; else stderr when a format was asked
    for (--log-format, or LIVEBLOG_LOG_FORMAT); else nowhere."""
    if log_format is not None:
        os.environ["LIVEBLOG_LOG_FORMAT"] = log_format  # the workers read it as a setting
    if access_log is None and os.environ.get("LIVEBLOG_LOG_FORMAT"):
        return "-"
    return access_log


def prepare_schema(db_path: str, migrate: bool | None, *, wait: float = 2.0) -> None:
    """Before serving: a schema older than the code is upgraded (``migrate``; by default on
    SQLite only), or else waited for, saying so once, until `liveblog migrate` has run."""



    check_name(db_path)
    try:
        pending = pending_upgrade(db_path)
    except database_errors() as e:
        if is_read_only_error(e):
            return  # served read-only as it is (make_app says so)
        raise
    if not pending:
        return
    if migrate is None:
        migrate = not is_postgres(db_path)
    if migrate:
        click.echo(f"{shown(db_path)}: {pending.describe()}: upgrading before serving", err=True)
        upgrade(db_path)
        return
    click.echo(f"{shown(db_path)}: {pending.describe()}: waiting for `liveblog migrate` (or"
               " start serve with --migrate)", err=True)
    while pending_upgrade(db_path):
        time.sleep(wait)
    click.echo(f"{shown(db_path)}: migrated; serving", err=True)


@main.command("migrate")
@db_option
@one_line_errors
def migrate_schema(db_path: str) -> None:
    """Create or upgrade the database's schema, build the projections that need it, and exit.

    Safe to run again (it then does nothing), and from several places at once on one
    PostgreSQL database: one does the work, the others wait for it and find it done."""


    check_name(db_path)
    done = upgrade(db_path)
    if not done:
        click.echo(f"{shown(db_path)}: up to date (schema version {SCHEMA_VERSION})")
        return
    click.echo(f"{shown(db_path)}: {done.describe(done=True)}; schema version"
               f" {SCHEMA_VERSION}")


@main.command("scheduler")
@db_option
@click.option("--parent", type=int, default=None, hidden=True,
              help="exit when this process (the server that started us) is gone")
@one_line_errors
def run_scheduler(db_path: str, parent: int | None) -> None:
    """Run the background jobs (scheduled posts, upkeep) until stopped; serve starts one."""


    app = make_app(db_path)
    jobs = build_scheduler(app)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    jobs.start()
    try:
        while not stop.wait(1.0):
            if parent is not None and os.getppid() != parent:
                break  # the server died without stopping us
    finally:
        jobs.shutdown()


@main.group()
def token() -> None:
    """Create, list and revoke API tokens."""


@token.command("create")
@db_option
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
@click.option("--name", required=True, help="who holds the token, e.g. 'Jane Doe'")
@click.option("--blog", "blogs", multiple=True, metavar="SLUG",
              help="editor or contributor of this blog only (repeatable); an editor token"
                   " without --blog acts on every blog")
@one_line_errors
def token_create(db_path: str, role: str, name: str, blogs: tuple[str, ...]) -> None:
    """Issue a token. The secret is printed once, alone on the last line."""
    service = _service(db_path)
    blog_ids = []
    for slug in blogs:
        head = find_blog_head(service.store.conn, slug)
        if head is None:
            raise click.ClickException(f"no blog {slug!r} (give its slug or id)")
        blog_ids.append(head.id)
    token_id, secret = create_token(service, role, name, cli_actor(), blog_ids)
    where = f" on {', '.join(blogs)}" if blogs else ""
    click.echo(f"created {role} token {token_id} for {name.strip()}{where}; store it now, it"
               " is not shown again:")
    click.echo(secret)


@token.command("list")
@db_option
@one_line_errors
def token_list(db_path: str) -> None:
    """List tokens (never their secrets)."""
    rows = list_tokens(_service(db_path).store.conn)
    if not rows:
        click.echo("no tokens")
    for row in rows:
        state = f"revoked {row.revoked_at}" if row.revoked_at else "active"
        where = f"  (on {', '.join(row.blogs)})" if row.blogs else ""
        click.echo(f"{row.id}  {row.role:<11} {state:<40} {row.name}{where}")


@token.command("revoke")
@db_option
@click.argument("token_id")
@one_line_errors
def token_revoke(db_path: str, token_id: str) -> None:
    """Revoke a token: it authenticates no more."""
    revoke_token(_service(db_path), token_id, cli_actor())
    click.echo(f"revoked token {token_id}")


@main.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None,
              help="log every request to stderr in this format")
@one_line_errors
def demo(db_path: str, host: str, port: int, workers: int, log_format: str | None) -> None:
    """Create a sample blog (once), print its URL and an editor token, then serve it.

    Each run's token replaces the last run's (revoked): a demo database keeps one."""

    made = metrics_directory()  # before _service imports prometheus_client
    service = _service(db_path, create=True)
    base = f"http://{host}:{port}"
    slug = ensure_demo(service, base)
    for row in list_tokens(service.store.conn):
        if row.name == DEMO_EDITOR and row.role == "editor" and not row.revoked_at:
            revoke_token(service, row.id, cli_actor())
    _, secret = create_token(service, "editor", DEMO_EDITOR, cli_actor())
    click.get_current_context().meta["liveblog"].shutdown()  # before gunicorn forks

    def ready() -> None:
        click.echo(f"reader page:  {base}/blogs/{slug}")
        click.echo(f"API docs:     {base}/docs")
        click.echo(f"editor token: {secret}")
        sys.stdout.flush()

    run_server(db_path, host, port, workers, DEFAULT_CONNECTIONS, on_ready=ready,
               access_log=_request_log(None, log_format), metrics_dir=made)


#: the name of the token `liveblog demo` prints
DEMO_EDITOR = "Demo editor"


def _service(db_path: str, *, project: bool = True, create: bool = False) -> Any:
    """The service on ``db_path``, through the composition root the app uses (``bootstrap``).

    Only a command whose job is to make a database (``demo``, ``import``, ``copy``'s target)
    passes ``create``; every other one refuses a missing file, so a command run in the wrong
    folder says so instead of quietly making an empty database beside it."""


    check_name(db_path)
    if not is_postgres(db_path):
        if os.path.isdir(db_path):
            raise click.ClickException(f"--db {db_path} is a directory, not a database file")
        if not create and not os.path.exists(db_path):
            raise click.ClickException(
                f"no database at {os.path.abspath(db_path)} (give --db or set LIVEBLOG_DB; "
                "`liveblog serve` or `liveblog demo` creates one)")
    liveblog = bootstrap(db_path)
    service = liveblog.service()
    context = click.get_current_context(silent=True)
    if context is not None:  # the command's connection goes when the command ends
        context.call_on_close(liveblog.shutdown)
        context.meta["liveblog"] = liveblog
    if project:
        service.runner.start()
    return service


def _remove_if_refused(db_path: str) -> None:
    """A SQLite file that this command makes goes again when the command fails (an import
    refused leaves no empty database behind). Call it before the command opens the file."""

    if is_postgres(db_path) or os.path.exists(db_path):
        return
    context = click.get_current_context()

    def remove() -> None:  # runs after the command's connection closed (callbacks run LIFO)
        if context.meta.get("liveblog.failed"):
            remove_files(db_path)

    context.call_on_close(remove)


@main.command()
@db_option
@click.option("--checkpoints", "saved", metavar="FILE_OR_URL", default=None,
              help="a saved copy of /api/audit/checkpoints (a file, or the service's URL to fetch"
                   " it from with --token): the log must still hold every event it signed")
@click.option("--token", envvar="LIVEBLOG_TOKEN", default=None,
              help="an auditor token, to fetch --checkpoints from a URL (or LIVEBLOG_TOKEN)")
@one_line_errors
def verify(db_path: str, saved: str | None, token: str | None) -> None:
    """Check the hash chain and the signed audit checkpoints; exit 1 naming what is broken."""


    store = _service(db_path, project=False).store
    result = verify_chain(store.conn)
    if not result.ok:
        click.echo(f"broken at position {result.first_bad_position}: {result.detail}"
                   f" ({result.events_checked} events before it are intact)", err=True)
        sys.exit(1)
    if saved is None:
        signed = checkpoints.stored(store.conn)
        keys = checkpoints.known_keys(store.conn, os.environ.get("LIVEBLOG_AUDIT_SIGNING_KEY"))
        source = "the database's"
    else:
        if saved.startswith(("http://", "https://")):
            signed, key = checkpoints.fetch_saved_copy(saved, token)
        else:
            try:
                with open(saved, "rb") as copy:
                    text = copy.read().decode("utf-8")
            except (OSError, UnicodeDecodeError) as e:
                reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
                raise click.ClickException(f"--checkpoints {saved}: {reason}") from None
            signed, key = checkpoints.read_saved_copy(text)
        keys = {checkpoints.key_id(key): key}
        source = f"{saved}:"
    held, problem, _ = checkpoints.verify(store.conn, signed, keys)
    if problem is not None:
        click.echo(f"broken: {problem} ({held} checkpoints before it hold)", err=True)
        sys.exit(1)
    redacted = (f" ({result.redacted_events} redacted: their payload hashes stand in)"
                if result.redacted_events else "")
    click.echo(f"ok: {result.events_checked} events{redacted}, head {result.head.position} "
               f"{result.head.hash}; {source} {held} signed audit checkpoint"
               f"{'' if held == 1 else 's'} {'holds' if held == 1 else 'hold'}")


@main.command()
@db_option
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="processes that fold blogs side by side (say, the machine's cores):"
                   " faster, and about 50 MB more each at a year's log")
@one_line_errors
def rebuild(db_path: str, workers: int) -> None:
    """Rebuild every projection from the log in one pass, with progress, into fresh tables
    swapped in."""

    service = _service(db_path, project=False)  # what start() would build, it builds anew
    runner = service.runner
    runner.workers = workers
    total = service.store.head().position
    started = time.perf_counter()
    with _progress(length=max(total, 1), label="rebuild", show_pos=True,
                           file=sys.stderr) as bar:
        replayed = runner.rebuild(progress=lambda done, of: bar.update(done - bar.pos))
    seconds = time.perf_counter() - started
    click.echo(f"rebuilt {len(runner.projections)} projections from {replayed} events in"
               f" {seconds:.1f} s ({replayed / max(seconds, 1e-9):,.0f} events/s"
               + (f"; blogs folded side by side in {runner.last_workers} worker processes"
                  if runner.last_workers else "") + ")")


@main.command("export")
@db_option
@click.argument("file", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@one_line_errors
def export_log(db_path: str, file: str) -> None:
    """Write the whole log as JSON Lines (one event a line, with its hashes); - for stdout."""
    store = _service(db_path, project=False).store
    total = store.head().position
    with click.open_file(file, "w", encoding="utf-8") as out, _progress(
            length=max(total, 1), label="export", file=sys.stderr) as bar:
        count = export_jsonl(store, out, progress=lambda n: bar.update(n - bar.pos))
        bar.update(total - bar.pos)
    head = store.head()
    click.echo(f"exported {count} events (head {head.position} {head.hash})", err=file == "-")


@main.command("import")
@db_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--with-tokens", is_flag=True,
              help="also import token events (they grant access: only from a log you trust)")
@one_line_errors
def import_log(db_path: str, file: str, with_tokens: bool) -> None:
    """Load a JSON Lines log into an empty database, every event checked, then project it.

    Each event must chain (hashes re-verified), be of a known type and schema, and hold only
    what the API would have stored (sanitised text); token events are refused unless
    --with-tokens. All or nothing: a refused import, projections included, leaves the
    database exactly as it was.
    """


    _remove_if_refused(db_path)
    service = _service(db_path, create=True)
    with click.open_file(file, "r", encoding="utf-8") as lines, _progress(
            length=1, label="import", file=sys.stderr) as bar, write_transaction(
            service.store.conn):
        head = import_jsonl(service.store, lines, progress=lambda n: bar.update(0),
                            check=checker(with_tokens=with_tokens))
        service.runner.catch_up()  # in the same transaction: a projection's refusal undoes all
        bar.update(1)
    click.echo(f"imported {head.position} events (head {head.position} {head.hash})")


@main.command()
@db_option
@click.argument("destination", type=click.Path(dir_okay=False))
@one_line_errors
def backup(db_path: str, destination: str) -> None:
    """Copy the whole database to a new file, consistently, while the service runs.

    SQLite: the online backup API (one snapshot; writers go on). PostgreSQL: pg_dump of one
    snapshot (custom format; PostgreSQL's client tools must be installed). A redaction made
    after the backup is not in it: rotate backups as your retention policy says.
    """

    _service(db_path, project=False)  # the one-line refusal of a missing database
    try:
        head = take(db_path, destination)
    except BackupError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"backed up to {destination}: {head.position} events, head {head.hash}")


@main.command()
@db_option
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@one_line_errors
def restore(db_path: str, source: str) -> None:
    """Load a backup into the empty database named by --db, then verify its hash chain.

    The database must be named (--db, or LIVEBLOG_DB): a restore never picks ./liveblog.db by
    default. It may be missing, or hold only liveblog's empty schema; anything else in it
    refuses the restore and is left untouched."""


    source_of_db = click.get_current_context().get_parameter_source("db_path")
    if source_of_db is click.core.ParameterSource.DEFAULT:
        raise click.ClickException("name the database to restore into: --db PATH_OR_URL (or"
                                   " LIVEBLOG_DB)")
    check_name(db_path)
    try:
        result = load(source, db_path)
    except BackupError as e:
        raise click.ClickException(str(e)) from None
    if not result.ok:
        click.echo(f"restored, but the chain is broken at position {result.first_bad_position}:"
                   f" {result.detail}", err=True)
        sys.exit(1)
    click.echo(f"restored {result.events_checked} events into {db_path}; the chain verifies"
               f" (head {result.head.position} {result.head.hash})")


@main.command("copy")
@click.option("--from", "source", required=True, help="the database to copy from (path or URL)")
@click.option("--to", "target", required=True, help="an empty database to copy into (path or URL)")
@one_line_errors
def copy_log(source: str, target: str) -> None:
    """Move a whole log between backends (e.g. a SQLite file to PostgreSQL), verified.

    Every event is re-hashed and chained on the way in, exactly as `import` does; the target
    must be empty, and a refused copy leaves it empty. Projections are then built from the log.
    """


    if source == target:
        raise click.ClickException("--from and --to name the same database")
    origin = _service(source, project=False).store
    _remove_if_refused(target)
    destination = _service(target, create=True)
    total = origin.head().position
    with _progress(length=max(total, 1), label="copy", show_pos=True,
                           file=sys.stderr) as bar, write_transaction(destination.store.conn):
        # types and schemas checked (a copy moves a deployment: its tokens too, and text as
        # its sanitiser left it), and projected in the same transaction: a refused copy
        # leaves the target as it was
        head = import_jsonl(destination.store, export_lines(origin),
                            progress=lambda n: bar.update(n - bar.pos),
                            check=checker(with_tokens=True, text=False))
        destination.runner.catch_up()
        try:
            images = media.copy_all(origin.conn, destination.store.conn)
        except ValueError as e:
            raise click.ClickException(str(e)) from None
        bar.update(max(total, 1) - bar.pos)
    result = verify_chain(destination.store.conn)
    if not result.ok or result.head != origin.head():
        raise click.ClickException(f"the copy does not verify: {result.detail or 'heads differ'}")
    click.echo(f"copied {result.events_checked} events (head {head.position} {head.hash})"
               f" and {images} images; the copy verifies")


@main.command()
@db_option
@click.argument("blog")
@click.option("--as-of", "as_of", required=True,
              help="an RFC 3339 time with an offset, or a cursor from the API")
@click.option("--order", type=click.Choice(["newest", "oldest", "updated"]), default="newest")
@click.option("--limit", type=click.IntRange(1, 100), default=20)
@one_line_errors
def replay(db_path: str, blog: str, as_of: str, order: str, limit: int) -> None:
    """Print a blog's feed exactly as readers saw it then, as JSON."""


    service = _service(db_path)
    head = queries.find_blog_head(service.store.conn, blog)
    if head is None:
        raise BlogNotFoundError(f"no blog with id or slug {blog!r}")
    position = resolve_as_of(service.store, as_of)
    page = feed_as_of(service.runner, head.id, position, order=order, limit=limit)
    click.echo(json.dumps(page, ensure_ascii=False, indent=2))


@main.command()
@db_option
@click.option("--blog", required=True, help="the blog's id or slug")
@click.option("--at", "at", required=True,
              help="the moment: an RFC 3339 time with an offset, or a cursor from the API")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
@one_line_errors
def prove(db_path: str, blog: str, at: str, out: str) -> None:
    """Write one file proving what a blog showed readers at a moment: its feed then, each of
    its events up to then with an inclusion proof, and a checkpoint signed after it. Anyone
    checks it offline with `liveblog check-proof` and the log's key (GET /log/key)."""
    service = _service(db_path)
    store = service.store
    head = queries.find_blog_head(store.conn, blog)
    if head is None:
        raise BlogNotFoundError(f"no blog with id or slug {blog!r}")
    position = resolve_as_of(store, at)
    config = {**DEFAULTS, **from_environ(os.environ)[0], "DATABASE": db_path}
    signer = checkpoints.load_signer(store.conn, config.get("AUDIT_SIGNING_KEY") or None)
    log = publication(config, signer)
    try:
        proof = prove_blog(service.runner, log, head.id, position, at,
                           format_time(store.clock()))
    except ForkError as e:
        raise click.ClickException(str(e)) from None
    with open(out, "w", encoding="utf-8") as f:
        json.dump(proof, f, ensure_ascii=False, indent=1)
    click.echo(f"{out}: {len(proof['events'])} events of {log.origin} up to position"
               f" {position}, {len(proof['feed']['posts'])} posts shown; key {log.verifier.vkey()}")


@main.command("check-proof")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--key", "key", required=True,
              help="the log's verifier key (GET /log/key), or a file that holds it")
def check_proof(file: str, key: str) -> None:
    """Check a `liveblog prove` file offline: exit 0 when it holds, 1 with one line why not."""
    vkey = key
    if os.path.isfile(key):
        with open(key, encoding="utf-8") as f:
            vkey = f.read().strip()
    try:
        with open(file, encoding="utf-8") as f:
            proof = json.load(f)
        click.echo(check_blog_proof(proof, vkey))
    except (ProofError, ValueError) as e:
        click.echo(f"Error: {file}: {e}", err=True)
        sys.exit(1)

