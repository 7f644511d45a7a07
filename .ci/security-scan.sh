#!/usr/bin/env bash
# The project attacks itself: both servers on a fresh database (sqlite or postgres, the
# first argument), a confidential, a public and a loopback client and an account made with
# the operator CLI, then `security-scan --fail-on low`: any finding fails CI.
set -euo pipefail
cd "$(dirname "$0")/.."

BACKEND=${1:-sqlite}
AUTH_PORT=${AUTH_PORT:-18390}
API_PORT=${API_PORT:-18391}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
WORK=$(mktemp -d /tmp/ci-security-scan.XXXXXX)
PIDS=()
DATABASE_NAME=""
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$DATABASE_NAME" ]; then
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DATABASE_NAME WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

case "$BACKEND" in
  sqlite) DATABASE_URL="sqlite://$WORK/scan.sqlite3" ;;
  postgres)
    DATABASE_NAME="scan_$(date +%s)_$RANDOM"
    psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $DATABASE_NAME" >/dev/null
    DATABASE_URL="${PG_ADMIN_URL%/*}/$DATABASE_NAME"
    ;;
  *) echo "ci: unknown backend $BACKEND" >&2; exit 2 ;;
esac

cargo build --locked -p auth-server -p resource-api -p security-scan
BIN="${CARGO_TARGET_DIR:-target}/debug"
# SERVER_BIN: the servers to scan, if not this build's (e.g. an older release, to see that
# the scanner finds what was fixed since).
SERVER_BIN=${SERVER_BIN:-$BIN}
auth="http://127.0.0.1:$AUTH_PORT"
api="http://127.0.0.1:$API_PORT"
export DATABASE_URL RUST_LOG=error ISSUER="$auth" RESOURCE_API_URL="$api"
# The scan sends thousands of requests from one address in a minute; the rate-limit checks
# run against limits of their own.
export RATE_LIMIT_PER_IP=1000000/1s RATE_LIMIT_LOGIN=1000000/1s RATE_LIMIT_REGISTER=1000000/1s \
  RATE_LIMIT_AUTHORIZE=1000000/1s RATE_LIMIT_TOKEN=1000000/1s RATE_LIMIT_PER_CLIENT=1000000/1s \
  RATE_LIMIT_PER_USER=1000000/1s

field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p"; }
"$SERVER_BIN/auth-server" migrate >/dev/null
password='violet-anchor-tundra-42'
printf '%s' "$password" | "$SERVER_BIN/auth-server" users create --username scan-user --email scan@example.com >/dev/null
confidential=$("$SERVER_BIN/auth-server" clients create --name "Scanned app" --redirect-uri https://app.example.com/callback)
public=$("$SERVER_BIN/auth-server" clients create --name "Scanned SPA" --redirect-uri https://spa.example.com/callback --public)
loopback=$("$SERVER_BIN/auth-server" clients create --name "Scanned desktop app" --redirect-uri http://127.0.0.1/callback --public)

AUTH_SERVER_BIND="127.0.0.1:$AUTH_PORT" "$SERVER_BIN/auth-server" serve >"$WORK/auth.log" 2>&1 &
PIDS+=($!)
RESOURCE_API_BIND="127.0.0.1:$API_PORT" JWKS_URL="$auth/jwks.json" "$SERVER_BIN/resource-api" serve >"$WORK/api.log" 2>&1 &
PIDS+=($!)
for url in "$auth/readyz" "$api/readyz"; do
  for _ in $(seq 1 100); do curl -fs "$url" >/dev/null 2>&1 && break; sleep 0.1; done
done

if ! SECURITY_SCAN_CLIENT_SECRET=$(field client_secret <<<"$confidential") SECURITY_SCAN_PASSWORD="$password" \
  "$BIN/security-scan" --issuer "$auth" --api "$api" \
    --client-id "$(field client_id <<<"$confidential")" --redirect-uri https://app.example.com/callback \
    --public-client-id "$(field client_id <<<"$public")" --loopback-client-id "$(field client_id <<<"$loopback")" \
    --username scan-user --fail-on low; then
  echo "ci: security-scan found something on $BACKEND (above); the servers' logs:" >&2
  tail -n 50 "$WORK/auth.log" "$WORK/api.log" >&2
  exit 1
fi
