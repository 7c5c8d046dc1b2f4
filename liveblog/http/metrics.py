"""Prometheus metrics, for every process of a deployment together.

Under `liveblog serve` each gunicorn worker and the scheduler write their samples to files in
``PROMETHEUS_MULTIPROC_DIR`` (made and emptied by `serve`, removed when it stops), and
``GET /metrics`` adds them up, whichever worker answers it (prometheus_client's multiprocess
mode: the directory must be set before ``prometheus_client`` is first imported, so this module
is imported only once the app is being made). Elsewhere (a test's app) they are this process's.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created: nothing an operator needs

#: the environment variable prometheus_client's multiprocess mode reads
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

HTTP_REQUESTS = Counter("liveblog_http_requests_total", "HTTP requests answered, by route"
                        " template, method and status", ["route", "method", "status"])
HTTP_DURATION = Histogram("liveblog_http_request_duration_seconds", "Time from a request's"
                          " arrival to its last byte sent (a long poll: the time it was held)",
                          ["route"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                                              2.5, 5.0, 10.0, 30.0))
LONG_POLLS = Gauge("liveblog_long_polls_waiting", "Long polls (/changes?wait=) held now",
                   multiprocess_mode="livesum")
EVENTS_APPENDED = Counter("liveblog_events_appended_total", "Events appended to the log, by"
                          " type", ["type"])
LOG_HEAD = Gauge("liveblog_log_head_position", "The log's head position, as last written or"
                 " read by any process", multiprocess_mode="max")
SCHEDULER_LAG = Gauge("liveblog_scheduler_lag_seconds", "How late the scheduler published the"
                      " last scheduled post that fell due (0 when on time)",
                      multiprocess_mode="mostrecent")
WEBHOOK_DELIVERIES = Counter("liveblog_webhook_deliveries_total", "Webhook delivery attempts,"
                             " by outcome (delivered, failed; disabled: webhooks turned off)",
                             ["outcome"])
for _outcome in ("delivered", "failed", "disabled"):  # every series there from the start, at 0
    WEBHOOK_DELIVERIES.labels(_outcome)
WEBHOOK_BACKLOG = Gauge("liveblog_webhook_backlog_events", "Log positions between the head and"
                        " the furthest-behind active webhook's cursor",
                        multiprocess_mode="mostrecent")
SCHEDULER_RUNNING = Gauge("liveblog_scheduler_running", "1 while a process of the deployment"
                          " holds the scheduler's lease (runs scheduled posts, webhooks,"
                          " checkpoints, archiving), else 0; read from the database when"
                          " scraped", multiprocess_mode="mostrecent")
DB_CONNECTIONS = Gauge("liveblog_db_connections_in_use", "Database connections leased now",
                       multiprocess_mode="livesum")


#: each (route, method, status)'s two series, found once (labels() costs a lock a call)
_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """One answered request."""
    key = (route, method, status)
    series = _series.get(key)
    if series is None:
        series = _series[key] = (HTTP_REQUESTS.labels(route, method, str(status)),
                                 HTTP_DURATION.labels(route))
    series[0].inc()
    series[1].observe(seconds)


def exposition() -> tuple[bytes, str]:
    """Every process's metrics in the text format, and its content type."""
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
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
