"""Metrics as an operator gets them: a real Prometheus (Debian's) scrapes a running
`liveblog serve` of two workers and its HTTP API answers for every series the contract lists,
added up over the workers; the shipped Grafana dashboard asks only for series the service
exports, and shows every one of them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from .server import Server, editor_token, free_port, stop_process

pytestmark = pytest.mark.slow

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "liveblog-dashboard.json"
CONTRACT = ["liveblog_http_requests_total", "liveblog_http_request_duration_seconds",
            "liveblog_long_polls_waiting", "liveblog_events_appended_total",
            "liveblog_log_head_position", "liveblog_scheduler_lag_seconds",
            "liveblog_webhook_deliveries_total", "liveblog_webhook_backlog_events",
            "liveblog_db_connections_in_use"]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def scraped(tmp_path):
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed: scripts/test installs it (apt-get install"
                    " prometheus) when run as root", pytrace=False)
    db = tmp_path / "metrics.db"
    token = editor_token(db)
    server = Server(db, workers=2, scheduler=True)  # (its series too)
    server.auth = {"Authorization": f"Bearer {token}"}
    port = free_port()
    (tmp_path / "prometheus.yml").write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: liveblog
    metrics_path: /metrics
    static_configs: [{{targets: ["127.0.0.1:{server.port}"]}}]
""")
    prometheus = subprocess.Popen(
        [binary, f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/-/ready", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "Prometheus did not start"
                time.sleep(0.2)
        yield server, base
    finally:
        stop_process(prometheus, 15, 10)
        server.stop()


def query(base: str, promql: str) -> list[dict]:
    answer = get_json(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def eventually(base: str, promql: str, timeout: float = 20.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        result = query(base, promql)
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def test_a_real_prometheus_scrapes_every_series_over_all_workers(scraped):
    server, base = scraped
    server.request("POST", "/api/blogs", {"title": "Measured", "slug": "measured"}, server.auth)
    server.request("POST", "/api/blogs/measured/posts", {"headline": "One"}, server.auth)
    for _ in range(20):
        assert server.request("GET", "/api/blogs/measured/posts").status == 200
    assert eventually(base, 'up{job="liveblog"} == 1'), "Prometheus never scraped the service"
    for name in CONTRACT:
        series = name + "_count" if name.endswith("_seconds") and "duration" in name else name
        assert eventually(base, series), f"{name} is not in Prometheus"
    feed = eventually(base, 'sum(liveblog_http_requests_total{route="/api/blogs/{blog}/posts",'
                            'method="GET",status="200"}) >= 20')
    assert feed, query(base, "liveblog_http_requests_total")  # all 20, whichever worker answered
    assert eventually(base, 'liveblog_events_appended_total{type="PostPublished"} >= 1')
    assert eventually(base, "liveblog_log_head_position >= 3")


def exported_families(server) -> set[str]:
    text = server.request("GET", "/metrics").body.decode()
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def test_the_dashboard_shows_every_series_and_only_exported_ones(tmp_path):
    db = tmp_path / "dash.db"
    auth = {"Authorization": f"Bearer {editor_token(db)}"}
    server = Server(db, workers=1)
    try:  # a series with labels is exported once it has one: an event appended, a request
        server.request("POST", "/api/blogs", {"title": "Dashboard"}, auth)
        families = exported_families(server)
    finally:
        server.stop()
    assert set(CONTRACT) <= families
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {re.sub(r"_(bucket|sum|count)$", "", name)
            for expr in exprs for name in re.findall(r"liveblog_[a-z_]+", expr)}
    assert used <= families, used - families  # no panel asks for a series that does not exist
    assert set(CONTRACT) <= used, set(CONTRACT) - used  # and every series has a panel
