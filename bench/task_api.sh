#!/usr/bin/env bash
# Benchmark: the task API's authenticated, database-backed reads — GET /api/tasks/{id} and
# GET /api/tasks — with a valid JWT, on SQLite and PostgreSQL, next to a bare actix-web
# endpoint that only verifies the same JWT (resource-api/examples/verify_only.rs), all
# measured in the same run. Target (issue 5): the full read reaches at least half the rate
# of the verify-only endpoint.
#
#   bash bench/task_api.sh
#   BACKENDS=sqlite DURATION=30s bash bench/task_api.sh
source "$(dirname "$0")/lib.sh"

need wrk wrk
need curl curl
need taskset util-linux
build_release
build_example verify_only resource-api

BACKENDS=${BACKENDS:-"sqlite postgres"}
PORT=${PORT:-18080}
API_PORT=$((PORT + 1))
VERIFY_PORT=$((PORT + 2))
VERIFIER=bench-verifier-0123456789abcdef0123456789abcdef0123456789
CHALLENGE=$(pkce_challenge "$VERIFIER")

printf '%-9s %-26s %10s %9s %9s %8s %s\n' backend endpoint "req/s" "p50 ms" "p99 ms" errors notes

for backend in $BACKENDS; do
  url=$(fresh_database "$backend")
  export DATABASE_URL=$url RUST_LOG=error
  "$BIN/auth-server" migrate >/dev/null
  printf '%s' 'violet-anchor-tundra-42' | "$BIN/auth-server" users create --username bench --email bench@example.com >/dev/null
  web=$("$BIN/auth-server" clients create --name Web --redirect-uri https://app.example.com/callback --first-party)
  web_id=$(json_field client_id <<<"$web")
  web_secret=$(json_field client_secret <<<"$web")
  # The auth-server only issues the token and serves the JWKS: it runs on the load core.
  SERVER_CPU=$LOAD_CPU start_auth_server "$url" "$PORT"
  auth="http://127.0.0.1:$PORT"

  jar="$WORK/cookies-$backend"
  sign_in "$auth" "$jar" bench violet-anchor-tundra-42
  code=$(authorization_code "$jar" "$auth/authorize?response_type=code&client_id=$web_id&code_challenge=$CHALLENGE&code_challenge_method=S256")
  token=$(curl -s -u "$web_id:$web_secret" -d grant_type=authorization_code -d "code=$code" \
    -d "code_verifier=$VERIFIER" "$auth/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
  jwk_x=$(curl -s "$auth/jwks.json" | sed -n 's/.*"x":"\([^"]*\)".*/\1/p')

  # The yardstick first, alone on the server core.
  VERIFY_BIND="127.0.0.1:$VERIFY_PORT" JWK_X=$jwk_x ISSUER=http://127.0.0.1:8080 AUDIENCE=http://127.0.0.1:8081 \
    HTTP_WORKERS=1 taskset -c "$SERVER_CPU" "$(example_bin verify_only)" >"$WORK/verify.log" 2>&1 &
  verify_pid=$!
  PIDS+=($verify_pid)
  for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$VERIFY_PORT/verify" && break; sleep 0.1; done
  read -r rps p50 p99 bad _ < <(load "http://127.0.0.1:$VERIFY_PORT/verify" -H "Authorization: Bearer $token")
  printf '%-9s %-26s %10s %9s %9s %8s %s\n' "$backend" "verify-only (yardstick)" "$rps" "$p50" "$p99" "$bad" baseline
  base_rps=$rps
  kill "$verify_pid"; wait "$verify_pid" 2>/dev/null || true

  start_resource_api "$url" "$API_PORT" "$auth/jwks.json"
  api_pid=$API_PID
  api="http://127.0.0.1:$API_PORT"
  for i in $(seq 1 50); do
    curl -s -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "{\"title\":\"task $i\",\"priority\":$(( i % 5 + 1 ))}" "$api/api/tasks"
  done
  id=$(curl -s -H "Authorization: Bearer $token" "$api/api/tasks?limit=1" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')

  read -r rps p50 p99 bad _ < <(load "$api/api/tasks/$id" -H "Authorization: Bearer $token")
  printf '%-9s %-26s %10s %9s %9s %8s %s\n' "$backend" "GET /api/tasks/{id}" "$rps" "$p50" "$p99" "$bad" \
    "$(awk -v r="$rps" -v b="$base_rps" 'BEGIN { printf "%.2fx verify-only (target >= 0.5)", r / b }')"
  read -r rps p50 p99 bad _ < <(load "$api/api/tasks" -H "Authorization: Bearer $token")
  printf '%-9s %-26s %10s %9s %9s %8s %s\n' "$backend" "GET /api/tasks (10 of 50)" "$rps" "$p50" "$p99" "$bad" \
    "$(awk -v r="$rps" -v b="$base_rps" 'BEGIN { printf "%.2fx verify-only (target >= 0.5)", r / b }')"
  limited_rps=$(awk -v r="$rps" 'BEGIN { print r }')
  # Memory: the resource-api process's peak and current resident set after the loads.
  printf '%-9s %-26s %s\n' "$backend" "resource-api memory" \
    "$(awk '/VmHWM|VmRSS/ { printf "%s %.1f MiB  ", $1, $2 / 1024 }' "/proc/$api_pid/status")"

  # The same list with rate limiting switched off: what the limiter costs.
  kill "$api_pid"; wait "$api_pid" 2>/dev/null || true
  RATE_LIMITS=off start_resource_api "$url" "$API_PORT" "$auth/jwks.json"
  read -r rps p50 p99 bad _ < <(load "$api/api/tasks" -H "Authorization: Bearer $token")
  printf '%-9s %-26s %10s %9s %9s %8s %s\n' "$backend" "  same, RATE_LIMITS=off" "$rps" "$p50" "$p99" "$bad" \
    "$(awk -v r="$limited_rps" -v u="$rps" 'BEGIN { printf "limits on = %.2fx of off", r / u }')"

  stop_servers
  drop_database "$url"
done
