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
VERIFIER=bench-verifier-0123456789abcdef0123456789abcdef0123456789

row() { printf '%-14s %-26s %10s %9s %9s %8s %s\n' "$@"; }

row server endpoint "req/s" "p50 ms" "p99 ms" errors notes

declare -A OURS
for backend in $BACKENDS; do
  url=$(fresh_database "$backend")
  seed_database "$url"
  start_auth_server "$url" "$PORT"
  base="http://127.0.0.1:$PORT"
  refresh_families "$base" "$WORK/cookies-$backend" "$VERIFIER"

  read -r rps p50 p99 bad _ < <(load "$base/healthz")
  row "ours/$backend" "GET /healthz" "$rps" "$p50" "$p99" "$bad" baseline
  base_rps=$rps

  export CLIENT_BASIC=$SERVICE_BASIC POST_PATH=/token EXPECT_BODY='"access_token"' POST_BODY="grant_type=client_credentials&scope=tasks%3Aread"
  read -r rps p50 p99 bad _ < <(load "$base" -s "$BENCH_DIR/post_form.lua")
  row "ours/$backend" "client_credentials" "$rps" "$p50" "$p99" "$bad" "$(awk -v r="$rps" -v b="$base_rps" 'BEGIN { printf "%.3fx baseline", r / b }')"
  OURS["$backend/cc"]=$rps

  export CLIENT_BASIC=$WEB_BASIC REFRESH_TOKENS
  read -r rps p50 p99 bad _ < <(load "$base" -s "$BENCH_DIR/refresh_chain.lua")
  row "ours/$backend" "refresh_token" "$rps" "$p50" "$p99" "$bad" "$(awk -v r="$rps" -v b="$base_rps" 'BEGIN { printf "%.3fx baseline", r / b }')"

  export CLIENT_BASIC=$API_BASIC POST_PATH=/introspect EXPECT_BODY='"active":true' POST_BODY="token=$ACCESS_TOKEN"
  read -r rps p50 p99 bad _ < <(load "$base" -s "$BENCH_DIR/post_form.lua")
  row "ours/$backend" "introspection" "$rps" "$p50" "$p99" "$bad" "$(awk -v r="$rps" -v b="$base_rps" 'BEGIN { printf "%.3fx baseline", r / b }')"
  OURS["$backend/introspect"]=$rps

  stop_servers
  drop_database "$url"
done

if [ "$COMPARE" = yes ]; then
  start_oidc_provider $((PORT + 1))
  export CLIENT_BASIC=$OP_BASIC POST_PATH=/token EXPECT_BODY='"access_token"' POST_BODY="grant_type=client_credentials&scope=tasks%3Aread"
  read -r cc_rps p50 p99 bad _ < <(load "$OP_URL" -s "$BENCH_DIR/post_form.lua")
  row "oidc-provider" "client_credentials" "$cc_rps" "$p50" "$p99" "$bad" "in memory, opaque token"
  export POST_PATH=/token/introspection EXPECT_BODY='"active":true' POST_BODY="token=$(oidc_provider_token)"
  read -r in_rps p50 p99 bad _ < <(load "$OP_URL" -s "$BENCH_DIR/post_form.lua")
  row "oidc-provider" "introspection" "$in_rps" "$p50" "$p99" "$bad" "in memory"
  for backend in $BACKENDS; do
    printf 'ratio ours/%s vs oidc-provider: client_credentials %s, introspection %s\n' "$backend" \
      "$(awk -v a="${OURS[$backend/cc]}" -v b="$cc_rps" 'BEGIN { printf "%.2fx", a / b }')" \
      "$(awk -v a="${OURS[$backend/introspect]}" -v b="$in_rps" 'BEGIN { printf "%.2fx", a / b }')"
  done
fi
