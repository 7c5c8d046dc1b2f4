"""Background jobs on one APScheduler (3.x) per database: scheduled publishing and upkeep.

* ``sync_schedules`` (every second): publishes every post whose time has come (so a post
  whose time passed while the service was down goes live at start), and arms one date job per
  pending post so it fires on time. Jobs are derived from the ``schedules`` projection, never
  stored elsewhere: the log stays the only source of truth.
* ``publish_due_post``: the editors' command path (``PublishDuePost``) with a system actor.
  ``decide`` turns a second firing into a no-op (the post is no longer scheduled), so two
  schedulers can never publish twice.
* ``catch_up_projections``: applies events another process appended without projecting them.
* ``archive_idle_blogs`` (every minute): closes a blog with no visible change for its
  ``archive_after_days`` (``BlogClosed`` with the actor ``scheduler``).
* ``deliver_webhooks`` (every second): sends partners' webhooks what they have not
  acknowledged yet, in log order (``liveblog.webhooks``).
* ``close_due_polls`` (every second): closes each poll whose ``closes_at`` has come
  (``PollClosed`` with the final tally, actor ``scheduler``).
* ``expire_questions`` (hourly): erases readers' contacts past ``QUESTION_RETENTION_DAYS``.
* ``record_audit_checkpoint``: signs the chain's head (position, hash, time) with the audit key
  and keeps it in the database (``liveblog.checkpoints``); a saved copy later proves the log
  was not rewritten or truncated below it.

Only one process per database runs the jobs: ``SchedulerLease`` is a lease row renewed every few
seconds, so a second ``liveblog serve`` on the same file stands by until the first goes away.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from events import format_time, write_transaction

from . import checkpoints, metrics, polls, questions
from .bootstrap import get_liveblog
from .checkpoints import Checkpoint
from .domain import commands as cmd
from .domain.errors import DomainError
from .service import SYSTEM, Service
from .transparency import ForkError, Signed
from .webhooks import Deliverer, Settings

log = logging.getLogger(__name__)


def _service() -> Service:
    return get_liveblog().service()


def publish_due_post(app: Flask, blog_id: str, post_id: str) -> bool:
    """Publish one scheduled post if it is due; True when this call published it."""
    with app.app_context():
        due = get_liveblog().store().conn.execute(
            "SELECT publish_at FROM schedules WHERE blog_id = ? AND post_id = ?",
            (blog_id, post_id)).fetchone()
        outcome = _service().handle(cmd.PublishDuePost(blog_id, post_id), SYSTEM)
        if outcome.events:
            log.info("published scheduled post %s of blog %s", post_id, blog_id)
            if due is not None:  # how late it went live: liveblog_scheduler_lag_seconds
                late = outcome.events[0].recorded_at - datetime.fromisoformat(due[0])
                metrics.collectors().SCHEDULER_LAG.set(max(0.0, late.total_seconds()))
        return bool(outcome.events)


def pending_posts(app: Flask) -> list[tuple[str, str, str]]:
    """``(blog_id, post_id, publish_at)`` of every pending post, earliest first."""
    with app.app_context():
        conn = get_liveblog().store().conn
        return [(r[0], r[1], r[2]) for r in conn.execute(
            "SELECT blog_id, post_id, publish_at FROM schedules ORDER BY publish_at")]


def publish_due_posts(app: Flask) -> int:
    """Publish every post whose time has come; returns how many this call published."""
    with app.app_context():
        now = format_time(get_liveblog().now())
        conn = get_liveblog().store().conn
        rows = conn.execute("SELECT blog_id, post_id FROM schedules WHERE publish_at <= ?"
                            " ORDER BY publish_at", (now,)).fetchall()
    return sum(publish_due_post(app, blog_id, post_id) for blog_id, post_id in rows)


def archive_idle_blogs(app: Flask) -> int:
    """Close every live blog with no change readers could see for its ``archive_after_days``
    (the command path, actor ``scheduler``); returns how many this call closed."""
    with app.app_context():
        liveblog = get_liveblog()
        now = liveblog.now()
        rows = liveblog.store().conn.execute(
            "SELECT b.id, b.archive_after_days, a.updated_at FROM blogs b"
            " JOIN blog_activity a ON a.blog_id = b.id"
            " WHERE b.status = 'live' AND b.archive_after_days IS NOT NULL").fetchall()
        closed = 0
        for blog_id, days, updated_at in rows:
            if datetime.fromisoformat(updated_at) + timedelta(days=days) > now:
                continue
            try:
                outcome = _service().handle(cmd.CloseBlog(blog_id), SYSTEM)
            except DomainError:  # closed meanwhile by an editor or another scheduler
                continue
            if outcome.events:
                closed += 1
                log.info("archived blog %s after %s idle days", blog_id, days)
        return closed


def close_due_polls(app: Flask) -> int:
    """Close every poll whose closing time has come (the command path, actor ``scheduler``);
    returns how many this call closed."""
    with app.app_context():
        liveblog = get_liveblog()
        now = liveblog.now()
        rows = liveblog.store().conn.execute(
            "SELECT poll_id FROM poll_closings WHERE closes_at <= ? ORDER BY closes_at",
            (format_time(now),)).fetchall()
        closed = 0
        for (poll_id,) in rows:
            try:
                poll = polls.find(liveblog.store().conn, poll_id)
                outcome = polls.close(poll, liveblog.votes(), now,
                                      lambda command: _service().handle(command, SYSTEM))
            except DomainError:  # not published (it closes once it is), or closed meanwhile
                continue
            closed += bool(outcome.events)
        return closed


def expire_questions(app: Flask) -> int:
    """Erase readers' contacts kept past QUESTION_RETENTION_DAYS (and, from the files too,
    when any was); returns how many."""
    with app.app_context():
        liveblog = get_liveblog()
        store = liveblog.store()
        retention = timedelta(days=int(app.config["QUESTION_RETENTION_DAYS"]))
        with write_transaction(store.conn):
            erased = questions.expire(store.conn, liveblog.now(), retention)
        if erased:
            store.scrub(["questions"])
        return erased


def catch_up_projections(app: Flask) -> int:
    """Apply events recorded by other writers that did not project them."""
    with app.app_context():
        return get_liveblog().runner().catch_up()


def record_audit_checkpoint(app: Flask) -> Checkpoint | None:
    """Sign the chain's head and keep it in the database, when it moved since the last one."""
    with app.app_context():
        liveblog = get_liveblog()
        return checkpoints.record(liveblog.store().conn, app.extensions["liveblog.signer"],
                                  format_time(liveblog.now()))


def record_log_checkpoint(app: Flask) -> Signed | None:
    """Sign the transparency log's tree when it grew, and offer the latest checkpoint to the
    witnesses that have not cosigned it; returns it. A log that is not an extension of what
    was signed before is not signed (logged as an error)."""
    with app.app_context():
        liveblog = get_liveblog()
        conn = liveblog.store().conn
        publication = app.extensions["liveblog.log"]
        try:
            signed = publication.sign(conn, format_time(liveblog.now()))
        except ForkError as e:
            log.error("%s", e)
            return None
        latest = signed or publication.latest(conn)
        return None if latest is None else publication.cosign(conn, latest)


class SchedulerLease:
    """A lease row: the one process per database allowed to run the jobs."""
    def __init__(self, app: Flask, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self.holder = f"{os.getpid()}-{secrets.token_hex(4)}"

    def acquire(self) -> bool:
        """Take or renew the lease; False while another live holder has it."""
        with self.app.app_context():
            liveblog = get_liveblog()
            now = liveblog.now()
            conn = liveblog.store().conn
            with write_transaction(conn):
                row = conn.execute("SELECT holder, expires_at FROM scheduler_lease"
                                   " WHERE id = 1").fetchone()
                if row is not None and row[0] != self.holder and row[1] > format_time(now):
                    return False
                conn.execute(
                    "INSERT INTO scheduler_lease (id, holder, expires_at) VALUES (1, ?, ?)"
                    " ON CONFLICT (id) DO UPDATE SET holder = excluded.holder,"
                    " expires_at = excluded.expires_at",
                    (self.holder, format_time(now + timedelta(seconds=self.seconds))))
            return True

    def release(self) -> None:
        """Give the lease up (on shutdown) so another process can take over at once."""
        with self.app.app_context():
            conn = get_liveblog().store().conn
            with write_transaction(conn):
                conn.execute("DELETE FROM scheduler_lease WHERE id = 1 AND holder = ?",
                             (self.holder,))


class Jobs:
    """The scheduler with this app's jobs; start() it once per deployment."""
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.scheduler = BackgroundScheduler(timezone=UTC, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        self.lease = SchedulerLease(app, float(app.config["SCHEDULER_LEASE_SECONDS"]))
        self.leader = False
        self._lock = threading.Lock()
        self._deliverer: Any = None
        self._stopping = False

    def start(self) -> None:
        """Start the scheduler. The first sync runs here, before any other job, so the lease is
        settled first and overdue posts go live now."""
        config = self.app.config
        self.sync_schedules()
        self.scheduler.add_job(self.sync_schedules, "interval",
                               seconds=float(config["SCHEDULER_SYNC_SECONDS"]),
                               id="sync_schedules")
        self.scheduler.add_job(self._guarded(catch_up_projections), "interval",
                               seconds=5, id="catch_up_projections")
        self.scheduler.add_job(self._guarded(close_due_polls), "interval",
                               seconds=float(config["SCHEDULER_SYNC_SECONDS"]),
                               id="close_due_polls")
        self.scheduler.add_job(self._guarded(expire_questions), "interval", seconds=3600,
                               id="expire_questions", next_run_time=datetime.now(UTC))
        self.scheduler.add_job(self._guarded(archive_idle_blogs), "interval", seconds=60,
                               id="archive_idle_blogs", next_run_time=datetime.now(UTC))
        self.scheduler.add_job(self._guarded(record_audit_checkpoint), "interval",
                               seconds=float(config["AUDIT_CHECKPOINT_SECONDS"]),
                               id="record_audit_checkpoint", next_run_time=datetime.now(UTC))
        self.scheduler.add_job(self._guarded(record_log_checkpoint), "interval",
                               seconds=float(config["LOG_CHECKPOINT_SECONDS"]),
                               id="record_log_checkpoint", next_run_time=datetime.now(UTC))
        self.scheduler.add_job(self._guarded(self.deliver_webhooks), "interval",
                               seconds=float(config["WEBHOOK_DELIVERY_SECONDS"]),
                               id="deliver_webhooks")
        # running, and nothing late yet: the series is there from now
        metrics.init().SCHEDULER_LAG.set(0.0)
        self.scheduler.start()

    def deliver_webhooks(self, app: Flask) -> int:
        """Send each due webhook what it has not acknowledged (``liveblog.webhooks``)."""
        if self._deliverer is None:
            liveblog = app.extensions["liveblog"]
            self._deliverer = Deliverer(liveblog, Settings.from_config(app.config), liveblog.now)
        sent = int(self._deliverer.run())
        metrics.collectors().WEBHOOK_BACKLOG.set(self._deliverer.backlog())
        return sent

    def shutdown(self) -> None:
        """Stop the jobs and give up the lease."""
        # No sync may be half-way first: it asks the scheduler for its jobs, which APScheduler's
        # shutdown refuses (holding its job stores' lock) while it waits for running jobs.
        with self._lock:
            self._stopping = True
        self.scheduler.shutdown(wait=True)
        if self._deliverer is not None:
            self._deliverer.pool.shutdown(wait=True)
        if self.leader:
            self.lease.release()
        with self.app.app_context():
            get_liveblog().close()

    def _guarded(self, job: Any) -> Any:
        """``job`` run by the lease holder only, its connection given back after it."""
        def run() -> Any:
            try:
                return job(self.app) if self.leader else None
            finally:
                self._give_back()

        run.__name__ = job.__name__
        return run

    def _give_back(self) -> None:
        """The job thread's connection goes back to the pool between runs: an idle scheduler
        holds none (liveblog_db_connections_in_use counts leases)."""
        with self.app.app_context():
            get_liveblog().release()

    def _publish_due_post(self, app: Flask, blog_id: str, post_id: str) -> bool:
        try:
            return publish_due_post(app, blog_id, post_id)
        finally:
            self._give_back()

    def sync_schedules(self) -> None:
        """Renew the lease; publish what is due; arm a date job for each pending post."""
        try:
            self._sync_schedules()
        finally:
            self._give_back()

    def _sync_schedules(self) -> None:
        with self._lock:
            if self._stopping:
                return
            try:
                self.leader = self.lease.acquire()
            except Exception as e:  # a busy or unreachable database: try again next second
                log.warning("scheduler lease: %s", str(e).splitlines()[0] if str(e) else repr(e))
                return
            if not self.leader:
                return
            publish_due_posts(self.app)
            pending = pending_posts(self.app)
            armed = {f"publish:{post_id}" for _, post_id, _ in pending}
            for job in self.scheduler.get_jobs():
                if job.id.startswith("publish:") and job.id not in armed:
                    job.remove()  # published or cancelled meanwhile
            for blog_id, post_id, publish_at in pending:
                when = datetime.fromisoformat(publish_at)
                job_id = f"publish:{post_id}"
                job = self.scheduler.get_job(job_id)
                if job is not None and job.next_run_time == when:
                    continue
                self.scheduler.add_job(self._publish_due_post, "date", run_date=when,
                                       args=(self.app, blog_id, post_id), id=job_id,
                                       replace_existing=True)


def build_scheduler(app: Flask) -> Jobs:
    """The jobs for ``app``, not started (``liveblog serve`` starts them once, in its master)."""
    return Jobs(app)
