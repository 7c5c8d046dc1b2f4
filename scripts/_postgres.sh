# Sourced by scripts/test: make sure a PostgreSQL answers for the PostgreSQL half of the suite.
# LIVEBLOG_TEST_POSTGRES names the server (default: postgresql://postgres@127.0.0.1:5432/postgres).
# When none answers at the default address, start the machine's cluster if one is installed, else
# install Debian's postgresql (as root) and start a throwaway cluster; the suite never skips it.
pg_url="${LIVEBLOG_TEST_POSTGRES:-postgresql://postgres@127.0.0.1:5432/postgres}"
pg_answers() {
    .venv/bin/python -c 'import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=3).close()' \
        "$pg_url" 2>/dev/null
}
pg_throwaway=""
if ! pg_answers && [ -z "${LIVEBLOG_TEST_POSTGRES:-}" ]; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
        echo "==> starting the machine's PostgreSQL cluster" >&2
        for version in $(ls /etc/postgresql); do
            pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 2>/dev/null || true
        done
    fi
    if ! pg_answers && [ "$(id -u)" = 0 ]; then
        if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
            echo "==> installing postgresql (apt-get)" >&2
            (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) \
                >/dev/null || echo "could not install postgresql" >&2
        fi
        bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
        if [ -n "$bin" ] && id postgres >/dev/null 2>&1; then
            pg_throwaway="$(mktemp -d /tmp/liveblog-pg.XXXXXX)"
            chown postgres "$pg_throwaway"
            echo "==> starting a throwaway PostgreSQL cluster in $pg_throwaway" >&2
            runuser -u postgres -- "$bin/initdb" -D "$pg_throwaway/data" -U postgres \
                --auth=trust >/dev/null
            runuser -u postgres -- "$bin/pg_ctl" -D "$pg_throwaway/data" -l "$pg_throwaway/log" \
                -o "-h 127.0.0.1 -p 5432 -k $pg_throwaway" -w start >/dev/null
        fi
    fi
fi
if ! pg_answers; then
    echo "no PostgreSQL answers at $pg_url: the PostgreSQL tests cannot run (set" \
         "LIVEBLOG_TEST_POSTGRES, or run this as root so it can install and start one)" >&2
    exit 1
fi
stop_throwaway_postgres() {
    if [ -n "$pg_throwaway" ]; then
        bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
        runuser -u postgres -- "$bin/pg_ctl" -D "$pg_throwaway/data" -m fast stop >/dev/null || true
    fi
}
