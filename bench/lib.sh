# Shared helpers for the benchmark scripts (sourced, not run).
# The server runs pinned to CPU 0 and the load generator to CPU 1; every figure is
# reported next to a baseline measured in the same run, since this machine is shared.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/oauth_flow.sh"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
WORK=$(mktemp -d /tmp/oauth-bench.XXXXXX)
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-16}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PIDS=()
# One load generator is one IP and one user sending thousands of requests a second: lift
# every limit out of reach. The limiter still runs on every request, so its cost is in
# the figures.
export RATE_LIMIT_PER_IP=1000000/1s RATE_LIMIT_LOGIN=1000000/1s RATE_LIMIT_REGISTER=1000000/1s \
  RATE_LIMIT_AUTHORIZE=1000000/1s RATE_LIMIT_TOKEN=1000000/1s RATE_LIMIT_PER_CLIENT=1000000/1s \
  RATE_LIMIT_PER_USER=1000000/1s

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "bench: installing $2 from Debian's packages" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "bench: $1 is required (Debian package $2)" >&2
    exit 1
  fi
}

build_release() {
  (cd "$ROOT" && cargo build --release --locked -p auth-server -p resource-api >&2)
}

# fresh_database sqlite|postgres -> prints a DATABASE_URL for an empty database
fresh_database() {
  case "$1" in
    sqlite) echo "sqlite://$WORK/bench-$RANDOM.sqlite3" ;;
    postgres)
      local name="bench_$(date +%s)_$RANDOM"
      psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $name" >&2
      echo "${PG_ADMIN_URL%/*}/$name"
      ;;
    *) echo "bench: unknown backend $1" >&2; exit 1 ;;
  esac
}

drop_database() {
  case "$1" in
    postgres://*) psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS ${1##*/} WITH (FORCE)" >&2 ;;
  esac
}

# start_auth_server DATABASE_URL PORT -> starts it pinned, waits until ready
start_auth_server() {
  DATABASE_URL="$1" AUTH_SERVER_BIND="127.0.0.1:$2" HTTP_WORKERS=1 RUST_LOG=warn \
    taskset -c "$SERVER_CPU" "$BIN/auth-server" serve >"$WORK/auth-$2.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$2/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "bench: auth-server did not become ready" >&2
  cat "$WORK/auth-$2.log" >&2
  exit 1
}

stop_servers() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
}

# load URL [wrk args...] -> runs wrk pinned; prints "rps p50_ms p99_ms errors", where
# errors counts non-2xx/3xx answers plus the responses a Lua script found wrong.
load() {
  local url=$1; shift
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" >"$WORK/wrk.out" 2>&1
  if [ -n "${BENCH_DEBUG:-}" ]; then { grep -i "unexpected" "$WORK/wrk.out" || true; } | head -5 >&2; fi
  awk '
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = $2 }
    /^ +99%/ { p99 = $2 }
    /Non-2xx or 3xx/ { bad += $5 }
    /^script_failures/ { bad += $2 }
    /Socket errors/ { bad += 1 }
    END {
      printf "%s %s %s %d\n", rps, ms(p50), ms(p99), bad
    }
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/)  { sub(/s$/, "", v); return v * 1000 }
      return v
    }' "$WORK/wrk.out"
}
