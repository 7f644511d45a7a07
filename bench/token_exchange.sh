#!/usr/bin/env bash
# Benchmark: the authorization-code exchange end to end (GET /authorize -> code ->
# POST /token) on SQLite and PostgreSQL, next to GET /healthz on the same server as the
# baseline measured in the same run.
#
#   bash bench/token_exchange.sh            # both backends
#   BACKENDS=sqlite bash bench/token_exchange.sh
#   DURATION=30s CONNECTIONS=32 bash bench/token_exchange.sh
#
# Prints one line per measurement: requests/s, p50 and p99 latency (ms), and for the
# exchange the number of complete flows per second (= requests / 2) and its ratio to
# the baseline.
source "$(dirname "$0")/lib.sh"

need wrk wrk
need curl curl
need taskset util-linux
build_release

BACKENDS=${BACKENDS:-"sqlite postgres"}
PORT=${PORT:-18080}
REDIRECT=https://app.example.com/callback
VERIFIER=bench-verifier-0123456789abcdef0123456789abcdef0123456789
CHALLENGE=$(pkce_challenge "$VERIFIER")

printf '%-9s %-22s %10s %9s %9s %8s %s\n' backend endpoint "req/s" "p50 ms" "p99 ms" errors notes

for backend in $BACKENDS; do
  url=$(fresh_database "$backend")
  export DATABASE_URL=$url RUST_LOG=error
  "$BIN/auth-server" migrate >/dev/null
  printf '%s' 'violet-anchor-tundra-42' | "$BIN/auth-server" users create --username bench --email bench@example.com >/dev/null
  client=$("$BIN/auth-server" clients create --name Bench --redirect-uri "$REDIRECT" --scope "tasks:read tasks:write")
  client_id=$(printf '%s' "$client" | sed -n 's/.*"client_id": "\([^"]*\)".*/\1/p')
  secret=$(printf '%s' "$client" | sed -n 's/.*"client_secret": "\([^"]*\)".*/\1/p')
  start_auth_server "$url" "$PORT"
  base="http://127.0.0.1:$PORT"

  # Sign in once and give consent once, as the person would.
  jar="$WORK/cookies"
  sign_in "$base" "$jar" bench violet-anchor-tundra-42
  session=$(awk '$6 == "session" { print $7 }' "$jar")
  authorize="/authorize?response_type=code&client_id=$client_id&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&scope=tasks%3Aread%20tasks%3Awrite&state=bench&code_challenge=$CHALLENGE&code_challenge_method=S256"
  allow_consent "$base" "$jar" "$base$authorize"

  read -r rps p50 p99 bad _ < <(load "$base/healthz")
  printf '%-9s %-22s %10s %9s %9s %8s %s\n' "$backend" "GET /healthz" "$rps" "$p50" "$p99" "$bad" "baseline"
  base_rps=$rps

  export AUTHORIZE_PATH=$authorize SESSION_COOKIE="session=$session"
  export CLIENT_BASIC=$(printf '%s:%s' "$client_id" "$secret" | base64 -w0)
  export TOKEN_BODY_PREFIX="grant_type=authorization_code&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&code_verifier=$VERIFIER"
  read -r rps p50 p99 bad _ < <(load "$base" -s "$(dirname "$0")/token_exchange.lua")
  flows=$(awk -v r="$rps" 'BEGIN { printf "%.0f", r / 2 }')
  ratio=$(awk -v r="$rps" -v b="$base_rps" 'BEGIN { printf "%.3f", r / b }')
  printf '%-9s %-22s %10s %9s %9s %8s %s\n' "$backend" "authorize+token" "$rps" "$p50" "$p99" "$bad" \
    "$flows flows/s; ${ratio}x baseline req/s"

  stop_servers
  drop_database "$url"
done
