#!/usr/bin/env bash
# The project attacks itself: both servers on a fresh database (sqlite or postgres, the
# first argument), a confidential, a public, a loopback and a client-credentials client
# and an account made with the operator CLI, then `security-scan --fail-on low`: any
# finding fails CI. Two rounds:
#   1. every check group but rate_limits, against servers whose rate limits are raised
#      (the scan sends thousands of requests from one address; the lockout and slow-down
#      of sign-ins are not rate limits and keep their defaults);
#   2. rate_limits alone, against servers restarted on a fresh database with the default
#      limits, which its bursts must meet.
set -euo pipefail
cd "$(dirname "$0")/.."

BACKEND=${1:-sqlite}
AUTH_PORT=${AUTH_PORT:-18390}
API_PORT=${API_PORT:-18391}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
WORK=$(mktemp -d /tmp/ci-security-scan.XXXXXX)
PIDS=()
DATABASES=()
cleanup() {
  stop_servers
  for name in "${DATABASES[@]}"; do
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
stop_servers() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
trap cleanup EXIT

case "$BACKEND" in
  sqlite | postgres) ;;
  *) echo "ci: unknown backend $BACKEND" >&2; exit 2 ;;
esac

cargo build --locked -p auth-server -p resource-api -p security-scan
BIN="${CARGO_TARGET_DIR:-target}/debug"
# SERVER_BIN: the servers to scan, if not this build's (e.g. an older release, to see that
# the scanner finds what was fixed since).
SERVER_BIN=${SERVER_BIN:-$BIN}
auth="http://127.0.0.1:$AUTH_PORT"
api="http://127.0.0.1:$API_PORT"
export RUST_LOG=error ISSUER="$auth" RESOURCE_API_URL="$api"
LIMITS=(RATE_LIMIT_PER_IP RATE_LIMIT_LOGIN RATE_LIMIT_REGISTER RATE_LIMIT_AUTHORIZE
  RATE_LIMIT_TOKEN RATE_LIMIT_PER_CLIENT RATE_LIMIT_PER_USER)
password='violet-anchor-tundra-42'
field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p"; }

# A fresh database for round $1, migrated, with the scan's account and clients.
provision() {
  case "$BACKEND" in
    sqlite) DATABASE_URL="sqlite://$WORK/scan-$1.sqlite3" ;;
    postgres)
      local name="scan_$(date +%s)_${RANDOM}_$1"
      psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $name" >/dev/null
      DATABASES+=("$name")
      DATABASE_URL="${PG_ADMIN_URL%/*}/$name"
      ;;
  esac
  export DATABASE_URL
  "$SERVER_BIN/auth-server" migrate >/dev/null
  printf '%s' "$password" | "$SERVER_BIN/auth-server" users create --username scan-user --email scan@example.com >/dev/null
  confidential=$("$SERVER_BIN/auth-server" clients create --name "Scanned app" --redirect-uri https://app.example.com/callback)
  public=$("$SERVER_BIN/auth-server" clients create --name "Scanned SPA" --redirect-uri https://spa.example.com/callback --public)
  loopback=$("$SERVER_BIN/auth-server" clients create --name "Scanned desktop app" --redirect-uri http://127.0.0.1/callback --public)
  service=$("$SERVER_BIN/auth-server" clients create --name "Scanned service" --grant-type client_credentials)
}

start_servers() {
  AUTH_SERVER_BIND="127.0.0.1:$AUTH_PORT" "$SERVER_BIN/auth-server" serve >>"$WORK/auth.log" 2>&1 &
  PIDS+=($!)
  RESOURCE_API_BIND="127.0.0.1:$API_PORT" JWKS_URL="$auth/jwks.json" "$SERVER_BIN/resource-api" serve >>"$WORK/api.log" 2>&1 &
  PIDS+=($!)
  for url in "$auth/readyz" "$api/readyz"; do
    for _ in $(seq 1 100); do curl -fs "$url" >/dev/null 2>&1 && break; sleep 0.1; done
  done
}

# security-scan with the provisioned credentials and the given arguments.
scan() {
  if ! SECURITY_SCAN_CLIENT_SECRET=$(field client_secret <<<"$confidential") SECURITY_SCAN_PASSWORD="$password" \
    SECURITY_SCAN_SERVICE_CLIENT_SECRET=$(field client_secret <<<"$service") \
    "$BIN/security-scan" --issuer "$auth" --api "$api" \
      --client-id "$(field client_id <<<"$confidential")" --redirect-uri https://app.example.com/callback \
      --public-client-id "$(field client_id <<<"$public")" --loopback-client-id "$(field client_id <<<"$loopback")" \
      --service-client-id "$(field client_id <<<"$service")" \
      --username scan-user --fail-on low "$@"; then
    echo "ci: security-scan $* found something on $BACKEND (above); the servers' logs:" >&2
    tail -n 50 "$WORK/auth.log" "$WORK/api.log" >&2
    exit 1
  fi
}

echo "== security-scan on $BACKEND, rate limits raised: every group but rate_limits"
provision main
for name in "${LIMITS[@]}"; do export "$name=1000000/1s"; done
start_servers
scan --skip rate_limits
stop_servers

echo "== security-scan on $BACKEND, default rate limits, fresh database: rate_limits"
provision limits
unset "${LIMITS[@]}"
start_servers
scan --only rate_limits
