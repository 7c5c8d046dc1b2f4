"""Prometheus metrics, for every process of a deployment together: process-wide, like
``bootstrap``.

Under `liveblog serve` each gunicorn worker and the scheduler write their samples to files in
``PROMETHEUS_MULTIPROC_DIR`` (made and emptied by `serve`, removed when it stops), and
``GET /metrics`` adds them up, whichever worker answers it (prometheus_client's multiprocess
mode). That directory must be set before ``prometheus_client`` is first imported, so this
module never imports it at its top: the collectors are made by :func:`init` (the app factory
and the scheduler call it; :func:`collectors` does on first use), by then the directory is
set. Importing this module is safe anywhere. Elsewhere (a test's app) the samples are this
process's.
"""

from __future__ import annotations

import bisect
import ipaddress
import os
import threading
from collections.abc import Iterable

from .http.flushing import Flushing

#: the environment variable prometheus_client's multiprocess mode reads
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
#: the request durations' histogram buckets (s)
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Collectors:
    """Every series this service writes (made once per process by :func:`init`)."""

    def __init__(self) -> None:
        # prometheus_client reads the multiprocess directory when first imported: here, once
        # start-up has set it, never at this module's import (see the module's docstring)
        from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

        disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created: not needed
        self.HTTP_REQUESTS = Counter(
            "liveblog_http_requests_total", "HTTP requests answered, by route template, method"
            " and status", ["route", "method", "status"])
        self.HTTP_DURATION = Histogram(
            "liveblog_http_request_duration_seconds", "Time from a request's arrival to its"
            " last byte sent (a long poll: the time it was held)", ["route"],
            buckets=DURATION_BUCKETS)
        self.LONG_POLLS = Gauge("liveblog_long_polls_waiting", "Long polls (/changes?wait=)"
                                " held now", multiprocess_mode="livesum")
        self.EVENTS_APPENDED = Counter("liveblog_events_appended_total", "Events appended to"
                                       " the log, by type", ["type"])
        self.LOG_HEAD = Gauge("liveblog_log_head_position", "The log's head position, as last"
                              " written or read by any process", multiprocess_mode="max")
        self.SCHEDULER_LAG = Gauge(
            "liveblog_scheduler_lag_seconds", "How late the scheduler published the last"
            " scheduled post that fell due (0 when on time)", multiprocess_mode="mostrecent")
        self.WEBHOOK_DELIVERIES = Counter(
            "liveblog_webhook_deliveries_total", "Webhook delivery attempts, by outcome"
            " (delivered, failed; disabled: webhooks turned off)", ["outcome"])
        for outcome in ("delivered", "failed", "disabled"):  # every series there, at 0
            self.WEBHOOK_DELIVERIES.labels(outcome)
        self.WEBHOOK_BACKLOG = Gauge(
            "liveblog_webhook_backlog_events", "Log positions between the head and the"
            " furthest-behind active webhook's cursor", multiprocess_mode="mostrecent")
        self.SCHEDULER_RUNNING = Gauge(
            "liveblog_scheduler_running", "1 while a process of the deployment holds the"
            " scheduler's lease (runs scheduled posts, webhooks, checkpoints, archiving), else"
            " 0; read from the database when scraped", multiprocess_mode="mostrecent")
        self.DB_CONNECTIONS = Gauge("liveblog_db_connections_in_use", "Database connections"
                                    " leased now", multiprocess_mode="livesum")


_collectors: Collectors | None = None
_made = threading.Lock()


def init() -> Collectors:
    """Make this process's collectors (once; later calls return them)."""
    global _collectors
    with _made:
        if _collectors is None:
            _collectors = Collectors()
        return _collectors


def collectors() -> Collectors:
    """This process's collectors, made now if start-up has not yet."""
    return _collectors or init()


#: the duration histogram's bucket bounds, +Inf last, as prometheus_client keeps them
_BOUNDS = (*DURATION_BUCKETS, float("inf"))


class _Requests:
    """Answered requests, counted in this process's memory and added to the shared series at
    most :data:`FLUSH_SECONDS` later (and whenever this process renders /metrics): one write
    per series a quarter second, where each request would otherwise write three (each a lock
    and a write to the memory-mapped file) and a poll would pay for them."""

    FLUSH_SECONDS = 0.25

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, int], int] = {}
        #: by route: the durations' sum and how many fell in each bucket
        self._durations: dict[str, tuple[list[float], list[int]]] = {}
        self._flushing = Flushing(self.flush, self.FLUSH_SECONDS, "liveblog-request-metrics")

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (route, method, status)
            self._counts[key] = self._counts.get(key, 0) + 1
            durations = self._durations.get(route)
            if durations is None:
                durations = self._durations[route] = ([0.0], [0] * len(_BOUNDS))
            durations[0][0] += seconds
            durations[1][bisect.bisect_left(_BOUNDS, seconds)] += 1
        self._flushing.start()

    def flush(self) -> None:
        """Add what was counted to the shared series."""
        with self._lock:
            counts, self._counts = self._counts, {}
            durations, self._durations = self._durations, {}
        made = collectors()
        for (route, method, status), count in counts.items():
            made.HTTP_REQUESTS.labels(route, method, str(status)).inc(count)
        for route, ([total], buckets) in durations.items():
            child = made.HTTP_DURATION.labels(route)
            # what Histogram.observe does, for many observations at once (its own values:
            # tests/api/test_metrics_access.py checks the counts come out exact)
            child._sum.inc(total)
            for i, count in enumerate(buckets):
                if count:
                    child._buckets[i].inc(count)


_requests = _Requests()
#: one answered request: its route template, method, status and seconds
observe_request = _requests.observe


def exposition() -> tuple[bytes, str]:
    """Every process's metrics in the text format, and its content type."""
    from prometheus_client import (  # after init(): see the module's docstring
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        generate_latest,
        multiprocess,
    )

    init()
    _requests.flush()  # this process's requests counted so far are in it
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def allowed(address: str | None, networks: Iterable[str]) -> bool:
    """Whether a client at ``address`` is in one of ``networks`` (CIDR)."""
    if not address:
        return False
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(net, strict=False) for net in networks)


def process_died(pid: int) -> None:
    """A worker is gone: its live gauges no longer count (gunicorn's child_exit)."""
    if os.environ.get(MULTIPROCESS_DIR):
        from prometheus_client import multiprocess  # the directory is set: see the docstring

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
