#!/usr/bin/env bash
# Benchmark: the client_credentials and refresh_token grants and introspection, on SQLite
# and PostgreSQL, next to GET /healthz (baseline) on the same server; then panva's
# oidc-provider (npm, in memory) under the same load in the same run, for comparison.
#
#   bash bench/token_lifecycle.sh
#   BACKENDS=sqlite DURATION=30s bash bench/token_lifecycle.sh
#   COMPARE=no bash bench/token_lifecycle.sh      # skip oidc-provider
source "$(dirname "$0")/lib.sh"

need wrk wrk
need curl curl
need taskset util-linux
build_release

BACKENDS=${BACKENDS:-"sqlite postgres"}
COMPARE=${COMPARE:-yes}
PORT=${PORT:-18080}
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
REDIRECT=https://app.example.com/callback
VERIFIER=bench-verifier-0123456789abcdef0123456789abcdef0123456789
CHALLENGE=$(pkce_challenge "$VERIFIER")

row() { printf '%-14s %-26s %10s %9s %9s %8s %s\n' "$@"; }
json_field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p"; }
basic() { printf '%s:%s' "$1" "$2" | base64 -w0; }

row server endpoint "req/s" "p50 ms" "p99 ms" errors notes

declare -A OURS
for backend in $BACKENDS; do
  url=$(fresh_database "$backend")
  export DATABASE_URL=$url RUST_LOG=error
  "$BIN/auth-server" migrate >/dev/null
  printf '%s' 'violet-anchor-tundra-42' | "$BIN/auth-server" users create --username bench --email bench@example.com >/dev/null
  service=$("$BIN/auth-server" clients create --name Service --grant-type client_credentials)
  api=$("$BIN/auth-server" clients create --name "Task API" --resource-server)
  web=$("$BIN/auth-server" clients create --name Web --redirect-uri "$REDIRECT")
  start_auth_server "$url" "$PORT"
  base="http://127.0.0.1:$PORT"
  service_basic=$(basic "$(json_field client_id <<<"$service")" "$(json_field client_secret <<<"$service")")
  api_basic=$(basic "$(json_field client_id <<<"$api")" "$(json_field client_secret <<<"$api")")
  web_id=$(json_field client_id <<<"$web")
  web_basic=$(basic "$web_id" "$(json_field client_secret <<<"$web")")

  # Two refresh-token families per connection (wrk may ask a connection for its next
  # request before the previous answer's new token is back): sign in, consent once,
  # then authorize and exchange 2 x CONNECTIONS times.
  jar="$WORK/cookies-$backend"
  sign_in "$base" "$jar" bench violet-anchor-tundra-42
  authorize="$base/authorize?response_type=code&client_id=$web_id&scope=tasks%3Aread%20tasks%3Awrite&code_challenge=$CHALLENGE&code_challenge_method=S256"
  allow_consent "$base" "$jar" "$authorize"
  refresh_tokens=()
  access_token=""
  for _ in $(seq 1 $((2 * CONNECTIONS))); do
    code=$(authorization_code "$jar" "$authorize")
    tokens=$(curl -s -H "Authorization: Basic $web_basic" -d grant_type=authorization_code -d "code=$code" \
      -d "code_verifier=$VERIFIER" "$base/token")
    refresh_tokens+=("$(sed -n 's/.*"refresh_token":"\([^"]*\)".*/\1/p' <<<"$tokens")")
    access_token=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' <<<"$tokens")
  done

  read -r rps p50 p99 bad < <(load "$base/healthz")
  row "ours/$backend" "GET /healthz" "$rps" "$p50" "$p99" "$bad" baseline
  base_rps=$rps

  export CLIENT_BASIC=$service_basic POST_PATH=/token POST_BODY="grant_type=client_credentials&scope=tasks%3Aread"
  read -r rps p50 p99 bad < <(load "$base" -s "$BENCH_DIR/post_form.lua")
  row "ours/$backend" "client_credentials" "$rps" "$p50" "$p99" "$bad" "$(awk -v r="$rps" -v b="$base_rps" 'BEGIN { printf "%.3fx baseline", r / b }')"
  OURS["$backend/cc"]=$rps

  export CLIENT_BASIC=$web_basic REFRESH_TOKENS=$(IFS=,; echo "${refresh_tokens[*]}")
  read -r rps p50 p99 bad < <(load "$base" -s "$BENCH_DIR/refresh_chain.lua")
  row "ours/$backend" "refresh_token" "$rps" "$p50" "$p99" "$bad" "$(awk -v r="$rps" -v b="$base_rps" 'BEGIN { printf "%.3fx baseline", r / b }')"

  export CLIENT_BASIC=$api_basic POST_PATH=/introspect POST_BODY="token=$access_token"
  read -r rps p50 p99 bad < <(load "$base" -s "$BENCH_DIR/post_form.lua")
  row "ours/$backend" "introspection" "$rps" "$p50" "$p99" "$bad" "$(awk -v r="$rps" -v b="$base_rps" 'BEGIN { printf "%.3fx baseline", r / b }')"
  OURS["$backend/introspect"]=$rps

  stop_servers
  drop_database "$url"
done

if [ "$COMPARE" = yes ]; then
  need node nodejs
  need npm npm
  (cd "$BENCH_DIR/oidc-provider" && npm install --no-audit --no-fund --silent >/dev/null)
  secret=bench-secret-0123456789abcdef0123456789abcdef
  PORT=$((PORT + 1)) CLIENT_SECRET=$secret taskset -c "$SERVER_CPU" node "$BENCH_DIR/oidc-provider/server.js" >"$WORK/oidc-provider.log" 2>&1 &
  PIDS+=($!)
  op="http://127.0.0.1:$((PORT + 1))"
  for _ in $(seq 1 100); do curl -fs "$op/.well-known/openid-configuration" >/dev/null 2>&1 && break; sleep 0.1; done
  op_basic=$(basic bench "$secret")
  token=$(curl -s -H "Authorization: Basic $op_basic" -d grant_type=client_credentials -d scope=tasks:read "$op/token" \
    | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
  export CLIENT_BASIC=$op_basic POST_PATH=/token POST_BODY="grant_type=client_credentials&scope=tasks%3Aread"
  read -r cc_rps p50 p99 bad < <(load "$op" -s "$BENCH_DIR/post_form.lua")
  row "oidc-provider" "client_credentials" "$cc_rps" "$p50" "$p99" "$bad" "in memory, opaque token"
  export POST_PATH=/token/introspection POST_BODY="token=$token"
  read -r in_rps p50 p99 bad < <(load "$op" -s "$BENCH_DIR/post_form.lua")
  row "oidc-provider" "introspection" "$in_rps" "$p50" "$p99" "$bad" "in memory"
  for backend in $BACKENDS; do
    printf 'ratio ours/%s vs oidc-provider: client_credentials %s, introspection %s\n' "$backend" \
      "$(awk -v a="${OURS[$backend/cc]}" -v b="$cc_rps" 'BEGIN { printf "%.2fx", a / b }')" \
      "$(awk -v a="${OURS[$backend/introspect]}" -v b="$in_rps" 'BEGIN { printf "%.2fx", a / b }')"
  done
fi
