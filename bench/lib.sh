# Shared helpers for the benchmark scripts (sourced, not run).
# The server runs pinned to CPU 0 and the load generator to CPU 1; every figure is
# reported next to a baseline measured in the same run, since this machine is shared.
#
# BIN_DIR=DIR runs prebuilt binaries from DIR (auth-server, resource-api and the examples
# either in DIR/examples/ or beside them) instead of CARGO_TARGET_DIR's release build;
# BUILD=no skips the cargo build.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/oauth_flow.sh"
BIN=${BIN_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/release}
BUILD=${BUILD:-yes}
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
  # PostgreSQL databases a failed run left behind (drop_database removes them on success).
  if [ -s "$WORK/databases" ]; then
    while read -r name; do
      psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true
    done <"$WORK/databases"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "bench: installing $2 from Debian's packages" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 || {
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    }
  else
    echo "bench: $1 is required (Debian package $2)" >&2
    exit 1
  fi
}

build_release() {
  [ "$BUILD" = no ] && return 0
  (cd "$ROOT" && cargo build --release --locked -p auth-server -p resource-api >&2)
}

# build_example NAME PACKAGE; example_bin NAME -> the example's path
build_example() {
  [ "$BUILD" = no ] && return 0
  (cd "$ROOT" && cargo build --release --locked --example "$1" -p "$2" >&2)
}
example_bin() {
  if [ -x "$BIN/examples/$1" ]; then echo "$BIN/examples/$1"; else echo "$BIN/$1"; fi
}

json_field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p"; }
basic() { printf '%s:%s' "$1" "$2" | base64 -w0; }

# fresh_database sqlite|postgres -> prints a DATABASE_URL for an empty database
fresh_database() {
  case "$1" in
    sqlite) echo "sqlite://$WORK/bench-$RANDOM.sqlite3" ;;
    postgres)
      local name="bench_$(date +%s)_$RANDOM"
      psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $name" >&2
      echo "$name" >>"$WORK/databases"
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

# wait_for URL NAME LOG: polls URL until it answers 2xx (10 s), else shows LOG and exits
wait_for() {
  for _ in $(seq 1 100); do
    curl -fs "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "bench: $2 did not become ready" >&2
  cat "$3" >&2
  exit 1
}

# start_auth_server DATABASE_URL PORT -> starts it pinned, waits until ready; its process
# id is in SERVER_PID (taskset execs the server, so it is the server's own)
start_auth_server() {
  DATABASE_URL="$1" AUTH_SERVER_BIND="127.0.0.1:$2" HTTP_WORKERS=1 RUST_LOG=warn \
    taskset -c "$SERVER_CPU" "$BIN/auth-server" serve >"$WORK/auth-$2.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=($!)
  wait_for "http://127.0.0.1:$2/readyz" auth-server "$WORK/auth-$2.log"
}

# start_resource_api DATABASE_URL PORT JWKS_URL -> the task API pinned, ready; API_PID
start_resource_api() {
  DATABASE_URL="$1" RESOURCE_API_BIND="127.0.0.1:$2" JWKS_URL="$3" HTTP_WORKERS=1 RUST_LOG=warn \
    taskset -c "$SERVER_CPU" "$BIN/resource-api" serve >"$WORK/api-$2.log" 2>&1 &
  API_PID=$!
  PIDS+=($!)
  wait_for "http://127.0.0.1:$2/readyz" resource-api "$WORK/api-$2.log"
}

# start_oidc_provider PORT -> panva's oidc-provider (npm, in memory, one confidential
# client "bench") pinned, ready; leaves OP_PID, OP_URL and OP_BASIC (the client's Basic
# credentials)
start_oidc_provider() {
  local secret=bench-secret-0123456789abcdef0123456789abcdef
  need node nodejs
  need npm npm
  (cd "$ROOT/bench/oidc-provider" && npm install --no-audit --no-fund --silent >/dev/null)
  PORT=$1 CLIENT_SECRET=$secret taskset -c "$SERVER_CPU" node "$ROOT/bench/oidc-provider/server.js" \
    >"$WORK/oidc-provider.log" 2>&1 &
  OP_PID=$!
  PIDS+=($!)
  OP_URL="http://127.0.0.1:$1"
  wait_for "$OP_URL/.well-known/openid-configuration" oidc-provider "$WORK/oidc-provider.log"
  OP_BASIC=$(basic bench "$secret")
}

# oidc_provider_token -> a fresh access token from oidc-provider, to introspect. Fetch it
# right before the introspection load: the in-memory adapter is an LRU cache of 1000
# entries, so a token load evicts earlier tokens, which then introspect as inactive.
oidc_provider_token() {
  curl -s -H "Authorization: Basic $OP_BASIC" -d grant_type=client_credentials -d scope=tasks:read \
    "$OP_URL/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}

stop_servers() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
}

# seed_database DATABASE_URL: migrates it and adds the user bench (BENCH_PASSWORD) and
# three clients, whose Basic credentials it leaves in SERVICE_BASIC (client_credentials),
# API_BASIC (a resource server, may introspect) and WEB_BASIC with WEB_ID (a confidential
# authorization_code + refresh_token client redirecting to BENCH_REDIRECT; asks consent).
BENCH_PASSWORD=violet-anchor-tundra-42
BENCH_REDIRECT=https://app.example.com/callback
seed_database() {
  local service api web
  DATABASE_URL=$1 RUST_LOG=error "$BIN/auth-server" migrate >/dev/null
  printf '%s' "$BENCH_PASSWORD" | DATABASE_URL=$1 RUST_LOG=error \
    "$BIN/auth-server" users create --username bench --email bench@example.com >/dev/null
  service=$(DATABASE_URL=$1 RUST_LOG=error "$BIN/auth-server" clients create --name Service --grant-type client_credentials)
  api=$(DATABASE_URL=$1 RUST_LOG=error "$BIN/auth-server" clients create --name "Task API" --resource-server)
  web=$(DATABASE_URL=$1 RUST_LOG=error "$BIN/auth-server" clients create --name Web --redirect-uri "$BENCH_REDIRECT")
  SERVICE_BASIC=$(basic "$(json_field client_id <<<"$service")" "$(json_field client_secret <<<"$service")")
  API_BASIC=$(basic "$(json_field client_id <<<"$api")" "$(json_field client_secret <<<"$api")")
  WEB_ID=$(json_field client_id <<<"$web")
  WEB_BASIC=$(basic "$WEB_ID" "$(json_field client_secret <<<"$web")")
}

# refresh_families BASE_URL JAR VERIFIER: signs bench in, consents once for the Web client
# (seed_database), then authorizes and exchanges 2 x CONNECTIONS codes — two refresh-token
# families per connection, since wrk may ask a connection for its next request before the
# previous answer's new token is back. Leaves REFRESH_TOKENS (comma-separated, for
# refresh_chain.lua), ACCESS_TOKEN (the last access token), AUTHORIZE_URL and
# SESSION_COOKIE (for token_exchange.lua).
refresh_families() {
  local tokens code tokens_list=()
  sign_in "$1" "$2" bench "$BENCH_PASSWORD"
  SESSION_COOKIE="session=$(awk '$6 == "session" { print $7 }' "$2")"
  AUTHORIZE_URL="$1/authorize?response_type=code&client_id=$WEB_ID&scope=tasks%3Aread%20tasks%3Awrite&code_challenge=$(pkce_challenge "$3")&code_challenge_method=S256"
  allow_consent "$1" "$2" "$AUTHORIZE_URL"
  for _ in $(seq 1 $((2 * CONNECTIONS))); do
    code=$(authorization_code "$2" "$AUTHORIZE_URL")
    tokens=$(curl -s -H "Authorization: Basic $WEB_BASIC" -d grant_type=authorization_code -d "code=$code" \
      -d "code_verifier=$3" "$1/token")
    tokens_list+=("$(sed -n 's/.*"refresh_token":"\([^"]*\)".*/\1/p' <<<"$tokens")")
    ACCESS_TOKEN=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' <<<"$tokens")
  done
  REFRESH_TOKENS=$(IFS=,; echo "${tokens_list[*]}")
}

# load URL [wrk args...] -> runs wrk pinned; prints "rps p50_ms p99_ms errors requests",
# where errors counts the responses a Lua script found wrong when the script reports
# script_failures (it checks every answer), else the non-2xx/3xx answers, plus socket
# errors; requests is what wrk completed. wrk's whole output goes to LOAD_OUT.
load() {
  local url=$1 out=${LOAD_OUT:-$WORK/wrk.out}; shift
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" >"$out" 2>&1 || true
  if [ -n "${BENCH_DEBUG:-}" ]; then { grep -i "unexpected" "$out" || true; } | head -5 >&2; fi
  awk '
    / requests in / { requests = $1 }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = $2 }
    /^ +99%/ { p99 = $2 }
    /Non-2xx or 3xx/ { non2xx += $5 }
    /^script_failures/ { scripted = 1; failures += $2 }
    /Socket errors/ { gsub(/,/, ""); sockets += $4 + $6 + $8 + $10 }
    END {
      bad = (scripted ? failures : non2xx) + sockets
      if (requests == "") { rps = 0; requests = 0; bad += 1 }
      printf "%s %s %s %d %d\n", rps, ms(p50), ms(p99), bad, requests
    }
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/)  { sub(/s$/, "", v); return v * 1000 }
      return v
    }' "$out"
}

# cpu_ticks PID... -> the processes' utime + stime so far, in clock ticks (getconf CLK_TCK)
cpu_ticks() {
  local pid total=0 stat fields
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    read -ra fields <<<"${stat##*) }"
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

# rss_mib PID VmRSS|VmHWM -> the process's current or peak resident set, in MiB
rss_mib() {
  awk -v key="$2:" '$1 == key { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status"
}
