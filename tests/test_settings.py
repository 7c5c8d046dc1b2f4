"""Settings are checked at start-up: every setting has a value it takes and one it refuses, and
a refused one stops the start with one line naming the setting and what it accepts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from liveblog import create_app
from liveblog.config import DEFAULTS, SETTINGS, SettingError, from_environ, parse

#: key -> (a value it takes, what that value reads as, a value it refuses)
#: a witness's cosignature key (type 0x04), its key id right
WITNESS = "w.example/w1+127836c2+BAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"
CASES = {
    "DATABASE": ("postgresql://u@h/db", "postgresql://u@h/db", "PostgreSQL://u@h/db"),
    "SYNCHRONOUS": ("normal", "NORMAL", "sometimes"),
    "MAX_CONTENT_LENGTH": ("2048", 2048, "1MB"),
    "MEDIA_MAX_BYTES": ("1000000", 1_000_000, "0"),
    "CACHE_MAX_AGE": ("5", 5, "abc"),
    "CACHE_STALE_WHILE_REVALIDATE": ("0", 0, "-1"),
    "ARCHIVE_AFTER_DAYS": ("null", None, "0"),
    "CLOSED_CACHE_MAX_AGE": ("8", 8, "8.5"),
    "FEED_CACHE_SIZE": ("100", 100, "[100]"),
    "SCHEDULER_SYNC_SECONDS": ("0.5", 0.5, "0"),
    "SCHEDULER_LEASE_SECONDS": ("30", 30.0, "nan"),
    "AUDIT_CHECKPOINT_SECONDS": ("60", 60.0, "-5"),
    "AUDIT_SIGNING_KEY": ("A" * 43 + "=", "A" * 43 + "=", "nonsense"),
    "LONG_POLL_INTERVAL": ("0.1", 0.1, "inf"),
    "LOG_CHECKPOINT_SECONDS": ("10", 10.0, "soon"),
    "LOG_WITNESSES": (f"https://w.example/ {WITNESS}", [f"https://w.example/ {WITNESS}"],
                      f"https://w.example/ {WITNESS.replace('127836c2', '00000000')}"),
    "LOG_STATE_FILE": ("/var/lib/liveblog/log-checkpoint", "/var/lib/liveblog/log-checkpoint",
                       "   "),
    "PUBLIC_URL": ("https://live.example.com/", "https://live.example.com",
                   "live.example.com"),
    "TRUSTED_PROXIES": ("10.0.0.1,10.0.0.2", ["10.0.0.1", "10.0.0.2"], "proxy.local"),
    "AUTH_FAILURE_LIMIT": ("3", 3, "three"),
    "QUESTIONS_PER_HOUR": ("10", 10, "-1"),
    "QUESTION_RETENTION_DAYS": ("7", 7, "a week"),
    "VOTES_PER_ADDRESS": ("50", 50, "1.5"),
    "AUTH_FAILURE_WINDOW": ("30", 30.0, "[30]"),
    "METRICS_ALLOWED_NETWORKS": ('["10.0.0.0/8"]', ["10.0.0.0/8"], "10.0.0.0/33"),
    "OIDC_ISSUER": ("https://id.example.com", "https://id.example.com", "id.example.com"),
    "OIDC_CLIENT_ID": ("liveblog", "liveblog", "live blog"),
    "OIDC_CLIENT_SECRET": ("s3cret", "s3cret", "   "),
    "OIDC_SCOPES": ("openid profile groups", "openid profile groups", "profile email"),
    "OIDC_GROUPS_CLAIM": ("roles", "roles", "my groups"),
    "OIDC_ROLE_MAP": ("desk=editor", "desk=editor", "desk=chief"),
    "OIDC_PROVIDER_NAME": ("Keycloak", "Keycloak", " "),
    "SECRET_KEY": ("x" * 32, "x" * 32, "short"),
    "OEMBED_PROVIDERS": ("", "", "/no/such/providers.json"),
    "OEMBED_TIMEOUT": ("1.5", 1.5, "soon"),
    "OEMBED_ALLOW_PRIVATE": ("1", True, "maybe"),
    "REQUEST_METRICS": ("no", False, "sometimes"),
    "OEMBED_META_TOKEN": ("app|token", "app|token", "app token"),
    "OEMBED_CACHE_SECONDS": ("3600", 3600, "1h"),
    "WEBHOOK_TIMEOUT": ("2.5", 2.5, "[1,2]"),
    "WEBHOOK_RETRY_DELAYS": ("1,5,30", [1.0, 5.0, 30.0], "[1, -2]"),
    "WEBHOOK_GIVE_UP_SECONDS": ("86400", 86400, "forever"),
    "WEBHOOK_ALLOW_PRIVATE": ("no", False, "nope"),
    "WEBHOOK_DELIVERY_SECONDS": ("2", 2.0, "0"),
    "LOG_FORMAT": ("JSON", "json", "xml"),
    "EMBED_FRAME_ANCESTORS": ("https://news.example.com/,http://localhost:8080",
                              ["https://news.example.com", "http://localhost:8080"],
                              "https://news.example.com/story"),
}

#: checked as the app starts, by the module that uses them (a key, a file, a role map)
AT_START = {"AUDIT_SIGNING_KEY", "OEMBED_PROVIDERS", "OIDC_ROLE_MAP"}


def test_every_setting_has_a_good_and_a_bad_value():
    assert set(CASES) == set(SETTINGS)


@pytest.mark.parametrize("key", sorted(set(CASES) - AT_START))
def test_setting_takes_its_shape_and_refuses_another_naming_itself(key):
    good, value, bad = CASES[key]
    assert from_environ({f"LIVEBLOG_{key}": good}) == ({key: value}, [])
    with pytest.raises(SettingError) as refused:
        from_environ({f"LIVEBLOG_{key}": bad})
    line = str(refused.value)
    assert f"LIVEBLOG_{key}=" in line and "it takes" in line and "\n" not in line


@pytest.mark.parametrize("key", sorted(AT_START))
def test_setting_checked_at_start_stops_the_app_naming_itself(key, tmp_path, monkeypatch):
    good, _, bad = CASES[key]
    monkeypatch.setenv("OIDC_ISSUER", "https://id.example.com")  # the role map needs sign-in
    monkeypatch.setenv("OIDC_CLIENT_ID", "liveblog")
    monkeypatch.setenv(f"LIVEBLOG_{key}", good)
    create_app({"DATABASE": str(tmp_path / "good.db")}).extensions["liveblog"].shutdown()
    monkeypatch.setenv(f"LIVEBLOG_{key}", bad)
    with pytest.raises(ValueError, match=key):
        create_app({"DATABASE": str(tmp_path / "bad.db")})


@pytest.mark.parametrize("word, value", [
    ("true", True), ("TRUE", True), ("1", True), ("yes", True),
    ("false", False), ("False", False), ("0", False), ("no", False)])
def test_booleans_take_the_usual_words(word, value):
    assert parse("WEBHOOK_ALLOW_PRIVATE", word) is value
    assert parse("OEMBED_ALLOW_PRIVATE", word) is value


def test_a_name_that_is_no_setting_is_reported_with_the_likely_one():
    values, unknown = from_environ({"LIVEBLOG_CACHE_MAXAGE": "5", "LIVEBLOG_DB": "x.db",
                                    "LIVEBLOG_TOKEN": "t"})
    assert values == {}
    assert unknown == ["LIVEBLOG_CACHE_MAXAGE is no setting (did you mean"
                       " LIVEBLOG_CACHE_MAX_AGE?)"]


def test_the_oidc_settings_are_also_read_without_the_prefix():
    assert from_environ({"OIDC_CLIENT_ID": "a"})[0] == {"OIDC_CLIENT_ID": "a"}
    assert from_environ({"OIDC_CLIENT_ID": "a", "LIVEBLOG_OIDC_CLIENT_ID": "b"})[0] == {
        "OIDC_CLIENT_ID": "b"}
    assert DEFAULTS["OIDC_CLIENT_ID"] == ""


def _liveblog(*args, env):
    return subprocess.run([sys.executable, "-m", "liveblog", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_a_bad_setting_stops_serve_and_every_command_with_one_line(tmp_path):
    import os

    env = {**os.environ, "LIVEBLOG_CACHE_MAX_AGE": "abc"}
    for args in (["serve", "--db", str(tmp_path / "s.db"), "--port", "1"],
                 ["migrate", "--db", str(tmp_path / "m.db")], ["token", "list"]):
        done = _liveblog(*args, env=env)
        assert done.returncode == 1, done
        assert done.stderr.strip().splitlines() == [
            "Error: LIVEBLOG_CACHE_MAX_AGE='abc' is not accepted: it takes a whole number of"
            " seconds, 0 or more"], done.stderr
    assert not (tmp_path / "s.db").exists() and not (tmp_path / "m.db").exists()
    typo = _liveblog("migrate", "--db", str(tmp_path / "m.db"),
                     env={**os.environ, "LIVEBLOG_CACHE_MAXAGE": "5"})
    assert typo.returncode == 0
    assert ("warning: LIVEBLOG_CACHE_MAXAGE is no setting (did you mean"
            " LIVEBLOG_CACHE_MAX_AGE?)") in typo.stderr


def test_liveblog_database_names_the_database_like_liveblog_db(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("LIVEBLOG_DB",)}
    named = tmp_path / "named.db"
    done = _liveblog("migrate", env={**env, "LIVEBLOG_DATABASE": str(named)}, )
    assert done.returncode == 0 and named.exists(), done.stderr
    assert _liveblog("token", "list", env={**env, "LIVEBLOG_DB": str(named)}).returncode == 0
    both = _liveblog("token", "list", env={**env, "LIVEBLOG_DB": str(named),
                                           "LIVEBLOG_DATABASE": str(tmp_path / "other.db")})
    assert both.returncode == 1 and "name different databases" in both.stderr


def test_serve_refused_at_start_leaves_no_metrics_folder_behind(tmp_path):
    """A setting only the app's making refuses (the signing key) stops serve after it made its
    metrics' folder: it is removed all the same."""
    import os

    temporary = tmp_path / "tmp"  # where serve makes that folder (tempfile follows TMPDIR)
    temporary.mkdir()
    env = {**{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
           "LIVEBLOG_AUDIT_SIGNING_KEY": "not a key", "TMPDIR": str(temporary)}
    done = _liveblog("serve", "--db", str(tmp_path / "s.db"), "--port", "1", env=env)
    assert done.returncode == 1 and "AUDIT_SIGNING_KEY" in done.stderr, done
    assert list(temporary.iterdir()) == []
