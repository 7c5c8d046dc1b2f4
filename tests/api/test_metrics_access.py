"""Who may read /metrics: clients on METRICS_ALLOWED_NETWORKS (loopback by default) without a
token, anyone with an auditor (or legal) token; nobody else, whatever else they hold."""

from __future__ import annotations

import pytest

from .helpers import assert_problem

ELSEWHERE = {"REMOTE_ADDR": "203.0.113.9"}


@pytest.mark.parametrize("who,where,allowed", [
    (None, {"REMOTE_ADDR": "127.0.0.1"}, True),
    (None, {"REMOTE_ADDR": "::1"}, True),
    (None, ELSEWHERE, False),
    ("auditor", ELSEWHERE, True),
    ("legal", ELSEWHERE, True),
    ("editor", ELSEWHERE, False),
    ("editor", {"REMOTE_ADDR": "127.0.0.1"}, False),  # a token says who: an editor may not
])
def test_metrics_are_for_the_operators_network_or_an_auditor(client, tokens, who, where,
                                                             allowed):
    headers = tokens.headers(who, "Someone") if who else {}
    answer = client.get("/metrics", headers=headers, environ_base=where)
    if allowed:
        assert answer.status_code == 200
        assert answer.mimetype == "text/plain"
        assert "liveblog_http_requests_total" in answer.get_data(as_text=True)
    else:
        assert_problem(answer, 403)


def test_the_allowed_networks_are_a_setting(app, client):
    app.config["METRICS_ALLOWED_NETWORKS"] = ["203.0.113.0/24"]
    assert client.get("/metrics", environ_base=ELSEWHERE).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 403


def _served(client, route: str) -> tuple[float, float, float]:
    """What /metrics says of ``route``: requests answered (every status together), and its
    durations' count and the count of its lowest bucket (5 ms)."""
    text = client.get("/metrics").get_data(as_text=True)

    def total(prefix: str, *also: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith(prefix) and f'route="{route}"' in line
                   and all(a in line for a in also))

    return (total("liveblog_http_requests_total{"),
            total("liveblog_http_request_duration_seconds_count{"),
            total("liveblog_http_request_duration_seconds_bucket{", 'le="30.0"'))


def test_requests_are_counted_exactly_unless_request_metrics_is_off(db_path, clock):
    from liveblog import create_app

    route = "/api/blogs/{blog}"
    for counting in (True, False):
        app = create_app({"TESTING": True, "DATABASE": str(db_path), "CLOCK": clock,
                          "REQUEST_METRICS": counting})
        client = app.test_client()
        before = _served(client, route)
        for _ in range(3):
            client.get("/api/blogs/no-such-blog")
        after = _served(client, route)
        assert [a - b for a, b in zip(after, before, strict=True)] == [3 if counting else 0] * 3
        app.extensions["liveblog"].shutdown()
