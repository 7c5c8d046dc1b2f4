
#: how test apps and servers commit on SQLite: NORMAL (no fsync a commit) survives a process
#: killed at any moment, which the tests do; only a crash of the machine, which none does, could
#: lose a commit. PostgreSQL's test databases alike (tests/postgres.py).
TEST_SYNCHRONOUS = "NORMAL"
