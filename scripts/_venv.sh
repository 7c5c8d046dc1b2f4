# Sourced by scripts/run and scripts/test: create or refresh ./.venv with the project installed.
# The install is redone only when pyproject.toml changed (a stamp file in .venv remembers it).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "liveblog needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
extras="${1:-}"  # callers pass it explicitly: a sourced file otherwise sees their arguments
stamp_want="$( (cat pyproject.toml; echo "$extras") | sha256sum | cut -d' ' -f1)"
stamp_file=.venv/.liveblog-stamp
if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv" >&2
    "$python" -m venv .venv
fi
if [ "$(cat "$stamp_file" 2>/dev/null || true)" != "$stamp_want" ]; then
    echo "==> installing liveblog${extras:+[$extras]} into .venv" >&2
    .venv/bin/python -m pip install --quiet --upgrade pip >&2
    .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}" >&2
    if [ "$extras" = test ]; then
        # the independent C2SP implementations the transparency-log tests check ours against:
        # pure Python that says it needs 3.12 but runs on 3.11 (its wheels are pinned)
        .venv/bin/python -m pip install --quiet --no-deps --ignore-requires-python \
            "aics-tlog==0.2.1" "aics-witness==0.1.0" >&2
    fi
    echo "$stamp_want" > "$stamp_file"
fi
