#!/usr/bin/env bash
# Benchmark comparison (issue 12): ours on SQLite and on PostgreSQL next to panva's
# oidc-provider (npm, in memory) and a bare actix-web server, all under the same load in
# one run, every response checked. One server worker (HTTP_WORKERS=1) pinned to
# SERVER_CPU, wrk pinned to LOAD_CPU. Measured:
#   1. GET /healthz, ours against the bare actix-web yardstick (auth-server/examples/hello.rs)
#   2. client_credentials tokens, ours against oidc-provider
#   3. the refresh_token grant (refresh_chain.lua: never trips reuse detection) against
#      our client_credentials
#   4. the authorization-code flow (token_exchange.lua: GET /authorize + POST /token, so
#      flows/s = req/s / 2) against our client_credentials
#   5. introspection, ours against oidc-provider
#   6. p99 of POST /token (client_credentials) and of the task API (GET /api/tasks with a
#      JWT; resource-api on the server core too), 4 connections each, while 32 connections
#      fail sign-ins (argon2) at POST /login from random addresses and usernames
#      (login_storm.lua; the servers run with TRUST_PROXY_HEADERS=true for the whole run, as
#      behind one reverse proxy, so X-Forwarded-For names the client)
#   7. idle (after start-up) and peak (VmHWM after every load and the storm) resident
#      memory of auth-server and resource-api
#   8. process start to the first 200 token answer (first_token.py, median of 5 starts on
#      a migrated database)
#   9. server CPU µs per request of every load (utime + stime from /proc/PID/stat over the
#      requests wrk completed), and on PostgreSQL the CPU of the postgres processes
#      serving our database (its backends and the shared background ones) separately
# Every wrk non-2xx/3xx answer and every answer a Lua script found wrong counts as an
# error; the script exits 1 if any measured load had one (the storm's refusals are what
# it expects; an answer it does not expect, such as a refused CSRF token, fails the run).
#
#   bash bench/compare.sh                                # release build, both backends
#   BIN_DIR=/path/to/binaries BUILD=no bash bench/compare.sh   # prebuilt binaries
#   DURATION=5s BACKENDS=sqlite COMPARE=no bash bench/compare.sh
#
# Knobs: DURATION (10s a load), CONNECTIONS (16), BACKENDS ("sqlite postgres"),
# COMPARE=no skips oidc-provider, OUT_DIR (bench/results), PORT (18400; uses PORT..PORT+4),
# SERVER_CPU / LOAD_CPU (0 / 1), BIN_DIR / BUILD (see lib.sh), PG_ADMIN_URL.
# Writes OUT_DIR/compare.md (header, figures against their targets, every load with its
# CPU per request, the storm's answers), OUT_DIR/compare.tsv (one row per load, read by
# bench/compare.gp) and OUT_DIR/compare.png (req/s and CPU µs per request per endpoint).
DURATION=${DURATION:-10s}
source "$(dirname "$0")/lib.sh"

need wrk wrk
need curl curl
need taskset util-linux
need python3 python3
need gnuplot gnuplot-nox
build_release
build_example hello auth-server

BACKENDS=${BACKENDS:-"sqlite postgres"}
COMPARE=${COMPARE:-yes}
OUT_DIR=${OUT_DIR:-$ROOT/bench/results}
PORT=${PORT:-18400}
API_PORT=$((PORT + 1))
OP_PORT=$((PORT + 2))
HELLO_PORT=$((PORT + 3))
START_PORT=$((PORT + 4))
STORM_CONNECTIONS=32
UNDER_STORM_CONNECTIONS=4
STARTS=5
BENCH_DIR=$ROOT/bench
VERIFIER=bench-verifier-0123456789abcdef0123456789abcdef0123456789
CLK_TCK=$(getconf CLK_TCK)
# The storm is a distributed attack arriving through one reverse proxy.
export TRUST_PROXY_HEADERS=true

mkdir -p "$OUT_DIR"
TSV=$OUT_DIR/compare.tsv
printf 'series\tprocess\tendpoint\treq_s\tp50_ms\tp99_ms\terrors\trequests\tcpu_us_per_req\tpostgres_cpu_us_per_req\n' >"$TSV"
declare -A RPS P99 RSS STARTUP STORM
FAILED=()
MEASURED_PIDS=()
PG_DB=""

# seconds_of 10s|2m|1h|30 -> seconds
seconds_of() {
  case "$1" in
    *s) echo "${1%s}" ;;
    *m) echo $((${1%m} * 60)) ;;
    *h) echo $((${1%h} * 3600)) ;;
    *) echo "$1" ;;
  esac
}

# postgres_ticks DATABASE -> "pid ticks" of the PostgreSQL processes serving DATABASE: its
# client backends and the server's own background processes (checkpointer, WAL writer...);
# other databases' clients, which others on this machine may be running, are left out.
postgres_ticks() {
  local pid
  for pid in $(psql "$PG_ADMIN_URL" -Atc "SELECT pid FROM pg_stat_activity
      WHERE datname = '$1' OR backend_type <> 'client backend'"); do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] && echo "$pid $(cpu_ticks "$pid")"
  done
  return 0
}

# µs per request from a tick count: us_per_request TICKS REQUESTS
us_per_request() {
  awk -v t="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print "-" }'
}

row() { printf '%-14s %-13s %-22s %9s %8s %8s %6s %8s %8s %8s\n' "$@"; }
row series process endpoint "req/s" "p50 ms" "p99 ms" errors requests "cpu µs" "pg µs"

# record SERIES PROCESS ENDPOINT RPS P50 P99 ERRORS REQUESTS CPU_US PG_CPU_US
record() {
  local field fields=()
  for field in "$@"; do fields+=("${field:--}"); done
  row "${fields[@]}"
  (IFS=$'\t'; echo "${fields[*]}") >>"$TSV"
  RPS["$1/$3"]=$4
  P99["$1/$3"]=$6
}

# measure SERIES PROCESS ENDPOINT URL [wrk args...]: one load against MEASURED_PIDS (and
# the PostgreSQL processes of PG_DB when set), its CPU per request, recorded; a load with
# errors fails the run.
measure() {
  local series=$1 process=$2 endpoint=$3; shift 3
  local before after rps p50 p99 bad requests pg_us=-
  before=$(cpu_ticks "${MEASURED_PIDS[@]}")
  [ -z "$PG_DB" ] || postgres_ticks "$PG_DB" >"$WORK/pg.before"
  read -r rps p50 p99 bad requests < <(load "$@")
  after=$(cpu_ticks "${MEASURED_PIDS[@]}")
  if [ -n "$PG_DB" ]; then
    postgres_ticks "$PG_DB" >"$WORK/pg.after"
    pg_us=$(us_per_request "$(awk 'NR == FNR { before[$1] = $2; next } { sum += $2 - before[$1] } END { print sum + 0 }' \
      "$WORK/pg.before" "$WORK/pg.after")" "$requests")
  fi
  record "$series" "$process" "$endpoint" "$rps" "$p50" "$p99" "$bad" "$requests" \
    "$(us_per_request $((after - before)) "$requests")" "$pg_us"
  [ "$bad" = 0 ] || FAILED+=("$series $endpoint: $bad errors in $requests requests")
}

# under_storm SERIES BASE API: POST /token and GET /api/tasks, UNDER_STORM_CONNECTIONS
# each, at the same time, while STORM_CONNECTIONS fail sign-ins; every figure recorded.
# The storm starts a second early and ends a second late; a slow answer counts in the
# latency, not as a wrk timeout (10 s instead of 2 s), so the p99 shows the real tail.
under_storm() {
  local series=$1 base=$2 api=$3 csrf storm_seconds storm token tasks rps p50 p99 bad requests name process endpoint
  # One CSRF cookie and token pair, as a browser gets with the form; it stays valid.
  csrf=$(curl -s -c "$WORK/storm-jar" "$base/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p')
  storm_seconds=$(($(seconds_of "$DURATION") + 2))
  (
    CSRF_COOKIE="csrf=$(awk '$6 == "csrf" { print $7 }' "$WORK/storm-jar")"
    export CSRF_COOKIE CSRF_TOKEN=$csrf
    CONNECTIONS=$STORM_CONNECTIONS DURATION=${storm_seconds}s LOAD_OUT=$WORK/storm.out \
      load "$base" -s "$BENCH_DIR/login_storm.lua" --timeout 10s >"$WORK/storm.line"
  ) &
  storm=$!
  sleep 1
  (
    export CLIENT_BASIC=$SERVICE_BASIC POST_PATH=/token EXPECT_BODY='"access_token"' \
      POST_BODY="grant_type=client_credentials&scope=tasks%3Aread"
    CONNECTIONS=$UNDER_STORM_CONNECTIONS LOAD_OUT=$WORK/storm-token.out \
      load "$base" -s "$BENCH_DIR/post_form.lua" --timeout 10s >"$WORK/storm-token.line"
  ) &
  token=$!
  (
    CONNECTIONS=$UNDER_STORM_CONNECTIONS LOAD_OUT=$WORK/storm-tasks.out \
      load "$api/api/tasks" -H "Authorization: Bearer $ACCESS_TOKEN" --timeout 10s >"$WORK/storm-tasks.line"
  ) &
  tasks=$!
  wait "$token" "$tasks" "$storm" || true
  for name in token:auth-server:token_under_storm tasks:resource-api:task_api_under_storm; do
    IFS=: read -r name process endpoint <<<"$name"
    read -r rps p50 p99 bad requests <"$WORK/storm-$name.line" || true
    record "$series" "$process" "$endpoint" "$rps" "$p50" "$p99" "$bad" "$requests" - -
    [ "$bad" = 0 ] || FAILED+=("$series $endpoint: $bad errors in $requests requests")
  done
  read -r rps p50 p99 bad requests <"$WORK/storm.line" || true
  record "$series" auth-server login_storm "$rps" "$p50" "$p99" "$bad" "$requests" - -
  STORM[$series]="$requests attempts ($rps/s); answers $(awk '/^storm_status/ { printf "%s%s: %d", sep, $2, $3; sep = ", " }' "$WORK/storm.out")"
  [ "$bad" = 0 ] || FAILED+=("$series login_storm: $bad answers the storm does not expect (see storm_status)")
  grep -q '^storm_status 401 ' "$WORK/storm.out" \
    || FAILED+=("$series login_storm: no sign-in was refused with 401, so none cost an argon2 verification")
}

# The bare actix-web yardstick.
HELLO_BIND=127.0.0.1:$HELLO_PORT taskset -c "$SERVER_CPU" "$(example_bin hello)" >"$WORK/hello.log" 2>&1 &
PIDS+=($!)
MEASURED_PIDS=($!)
wait_for "http://127.0.0.1:$HELLO_PORT/healthz" hello "$WORK/hello.log"
measure bare-actix hello healthz "http://127.0.0.1:$HELLO_PORT/healthz"
stop_servers

for backend in $BACKENDS; do
  series=ours-$backend
  url=$(fresh_database "$backend")
  PG_DB=""
  [ "$backend" = postgres ] && PG_DB=${url##*/}
  seed_database "$url"

  read -r _ STARTUP[$backend] _ runs < <(AUTH_SERVER_BIND=127.0.0.1:$START_PORT DATABASE_URL=$url HTTP_WORKERS=1 \
    RUST_LOG=warn CLIENT_BASIC=$SERVICE_BASIC python3 "$BENCH_DIR/first_token.py" "$BIN/auth-server" \
    "$SERVER_CPU" "$LOAD_CPU" "$STARTS") || true
  [ -n "${STARTUP[$backend]:-}" ] || FAILED+=("$series: the start-up measurement got no token")
  echo "$series: process start to first token ${STARTUP[$backend]:-} ms (median of $STARTS: $runs)"

  start_auth_server "$url" "$PORT"
  auth_pid=$SERVER_PID
  base="http://127.0.0.1:$PORT"
  sleep 0.5
  RSS["$backend/auth/idle"]=$(rss_mib "$auth_pid" VmRSS)
  refresh_families "$base" "$WORK/cookies-$backend" "$VERIFIER"

  MEASURED_PIDS=("$auth_pid")
  measure "$series" auth-server healthz "$base/healthz"
  export CLIENT_BASIC=$SERVICE_BASIC POST_PATH=/token EXPECT_BODY='"access_token"' \
    POST_BODY="grant_type=client_credentials&scope=tasks%3Aread"
  measure "$series" auth-server client_credentials "$base" -s "$BENCH_DIR/post_form.lua"
  export CLIENT_BASIC=$API_BASIC POST_PATH=/introspect EXPECT_BODY='"active":true' POST_BODY="token=$ACCESS_TOKEN"
  measure "$series" auth-server introspection "$base" -s "$BENCH_DIR/post_form.lua"
  export CLIENT_BASIC=$WEB_BASIC REFRESH_TOKENS
  measure "$series" auth-server refresh_token "$base" -s "$BENCH_DIR/refresh_chain.lua"
  export AUTHORIZE_PATH=${AUTHORIZE_URL#"$base"} SESSION_COOKIE \
    TOKEN_BODY_PREFIX="grant_type=authorization_code&code_verifier=$VERIFIER"
  measure "$series" auth-server authorization_code "$base" -s "$BENCH_DIR/token_exchange.lua"

  start_resource_api "$url" "$API_PORT" "$base/jwks.json"
  api_pid=$API_PID
  api="http://127.0.0.1:$API_PORT"
  sleep 0.5
  RSS["$backend/api/idle"]=$(rss_mib "$api_pid" VmRSS)
  for i in $(seq 1 50); do
    curl -fs -o /dev/null -H "Authorization: Bearer $ACCESS_TOKEN" -H 'Content-Type: application/json' \
      -d "{\"title\":\"task $i\",\"priority\":$((i % 5 + 1))}" "$api/api/tasks"
  done
  MEASURED_PIDS=("$api_pid")
  measure "$series" resource-api task_api "$api/api/tasks" -H "Authorization: Bearer $ACCESS_TOKEN"

  under_storm "$series" "$base" "$api"
  RSS["$backend/auth/peak"]=$(rss_mib "$auth_pid" VmHWM)
  RSS["$backend/api/peak"]=$(rss_mib "$api_pid" VmHWM)

  stop_servers
  drop_database "$url"
done

if [ "$COMPARE" = yes ]; then
  PG_DB=""
  start_oidc_provider "$OP_PORT"
  sleep 0.5
  RSS["oidc/idle"]=$(rss_mib "$OP_PID" VmRSS)
  MEASURED_PIDS=("$OP_PID")
  export CLIENT_BASIC=$OP_BASIC POST_PATH=/token EXPECT_BODY='"access_token"' \
    POST_BODY="grant_type=client_credentials&scope=tasks%3Aread"
  measure oidc-provider node client_credentials "$OP_URL" -s "$BENCH_DIR/post_form.lua"
  POST_BODY="token=$(oidc_provider_token)"
  export POST_PATH=/token/introspection EXPECT_BODY='"active":true' POST_BODY
  measure oidc-provider node introspection "$OP_URL" -s "$BENCH_DIR/post_form.lua"
  RSS["oidc/peak"]=$(rss_mib "$OP_PID" VmHWM)
  stop_servers
fi

# The figures against their targets.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
# met VALUE >=|<=|< TARGET
met() {
  awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
    if (v == "-" || v == "") { print "-"; exit }
    ok = (op == ">=" && v >= t) || (op == "<=" && v <= t) || (op == "<" && v < t)
    print ok ? "met" : "not met"
  }'
}
FIGURES=$WORK/figures.md
# figure "N. NAME" BACKEND MEASURED REFERENCE RATIO_OR_VALUE OP TARGET: a row, kept with
# its figure number N for the table, which lists them by figure and then by backend
figure() {
  printf '%s\t| %s | %s | %s | %s | %s | %s %s | %s |\n' "${1%%.*}" "$1" "$2" "${3:--}" "${4:--}" "${5:--}" \
    "$6" "$7" "$(met "$5" "$6" "$7")" >>"$WORK/figures.rows"
}
half() { awk -v r="$1" 'BEGIN { if (r == "") print ""; else printf "%.1f", r / 2 }'; }
touch "$WORK/figures.rows"
for backend in $BACKENDS; do
  s=ours-$backend
  cc=${RPS[$s/client_credentials]:-}
  op_cc=${RPS[oidc-provider/client_credentials]:-}
  op_in=${RPS[oidc-provider/introspection]:-}
  cc_target=2.0; [ "$backend" = postgres ] && cc_target=1.5
  flows=$(half "${RPS[$s/authorization_code]:-}")
  figure "1. GET /healthz vs bare actix-web (req/s)" "$backend" "${RPS[$s/healthz]:-}" "${RPS[bare-actix/healthz]:-}" \
    "$(ratio "${RPS[$s/healthz]:-}" "${RPS[bare-actix/healthz]:-}")" ">=" 0.9
  figure "2. client_credentials vs oidc-provider (req/s)" "$backend" "$cc" "${op_cc:--}" "$(ratio "$cc" "$op_cc")" ">=" "$cc_target"
  figure "3. refresh_token vs our client_credentials (req/s)" "$backend" "${RPS[$s/refresh_token]:-}" "$cc" \
    "$(ratio "${RPS[$s/refresh_token]:-}" "$cc")" ">=" 0.75
  figure "4. authorization-code flows/s vs our client_credentials req/s" "$backend" "$flows" "$cc" \
    "$(ratio "$flows" "$cc")" ">=" 0.5
  figure "5. introspection vs oidc-provider (req/s)" "$backend" "${RPS[$s/introspection]:-}" "${op_in:--}" \
    "$(ratio "${RPS[$s/introspection]:-}" "$op_in")" ">=" 2.0
  figure "6. p99 POST /token during the sign-in storm (ms)" "$backend" "${P99[$s/token_under_storm]:-}" \
    "quiet: ${P99[$s/client_credentials]:-}" "${P99[$s/token_under_storm]:-}" "<" 20
  figure "6. p99 GET /api/tasks during the sign-in storm (ms)" "$backend" "${P99[$s/task_api_under_storm]:-}" \
    "quiet: ${P99[$s/task_api]:-}" "${P99[$s/task_api_under_storm]:-}" "<" 20
  for process in auth:auth-server api:resource-api; do
    figure "7. ${process#*:} idle RSS (MiB)" "$backend" "${RSS[$backend/${process%%:*}/idle]:-}" - \
      "${RSS[$backend/${process%%:*}/idle]:-}" "<=" 15
    figure "7. ${process#*:} peak RSS, VmHWM (MiB)" "$backend" "${RSS[$backend/${process%%:*}/peak]:-}" - \
      "${RSS[$backend/${process%%:*}/peak]:-}" "<=" 40
  done
  figure "8. process start to first token, median of $STARTS (ms)" "$backend" "${STARTUP[$backend]:-}" - \
    "${STARTUP[$backend]:-}" "<=" 30
done

{
  echo "| figure | backend | measured | reference | ratio / value | target | |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  sort -s -n -k1,1 "$WORK/figures.rows" | cut -f2-
} >"$FIGURES"

# The report.
MD=$OUT_DIR/compare.md
{
  echo "# Benchmark comparison"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; server on CPU $SERVER_CPU (HTTP_WORKERS=1), wrk on CPU $LOAD_CPU; PostgreSQL unpinned"
  echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "- binaries: $BIN"
  echo "- command: \`DURATION=$DURATION CONNECTIONS=$CONNECTIONS BACKENDS=\"$BACKENDS\" COMPARE=$COMPARE${BIN_DIR:+ BIN_DIR=$BIN_DIR} BUILD=$BUILD bash bench/compare.sh\`"
  echo "- each load: $DURATION, $CONNECTIONS connections; the storm: $STORM_CONNECTIONS connections failing sign-ins from random X-Forwarded-For addresses and usernames, with $UNDER_STORM_CONNECTIONS connections each on POST /token and GET /api/tasks"
  echo
  echo "## Figures"
  echo
  cat "$FIGURES"
  echo
  echo "## Sign-in storm answers"
  echo
  for backend in $BACKENDS; do
    echo "- ours-$backend: ${STORM[ours-$backend]:-not run}"
  done
  [ "$COMPARE" != yes ] || echo "- oidc-provider resident memory: idle ${RSS[oidc/idle]:-} MiB, peak ${RSS[oidc/peak]:-} MiB"
  echo
  echo "## Every load"
  echo
  echo "CPU µs per request: utime + stime of the server process over the load, divided by the requests wrk completed; postgres: the PostgreSQL processes serving the database. Under the storm the CPU is shared between loads and is not split."
  echo
  echo "| series | process | endpoint | req/s | p50 ms | p99 ms | errors | requests | CPU µs/req | postgres CPU µs/req |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  tail -n +2 "$TSV" | awk -F'\t' '{ printf "|"; for (i = 1; i <= NF; i++) printf " %s |", $i; print "" }'
  echo
  if [ ${#FAILED[@]} -gt 0 ]; then
    echo "## Errors"
    echo
    printf -- '- %s\n' "${FAILED[@]}"
  else
    echo "Every measured load answered without an error."
  fi
} >"$MD"
echo
cat "$FIGURES"

terminal=png
gnuplot -e 'set terminal' 2>&1 | grep -q pngcairo && terminal=pngcairo
gnuplot -e "tsv='$TSV'; png='$OUT_DIR/compare.png'; terminal='$terminal'" "$BENCH_DIR/compare.gp"
echo
echo "bench: wrote $MD, $TSV and $OUT_DIR/compare.png"

if [ ${#FAILED[@]} -gt 0 ]; then
  printf 'bench: FAILED: %s\n' "${FAILED[@]}" >&2
  exit 1
fi
