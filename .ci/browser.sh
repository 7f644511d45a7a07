#!/usr/bin/env bash
# Real-browser checks in Debian's Chromium (see .ci/browser/consent-flow.js): the sign-in
# and consent forms' redirects to the client are not blocked by our CSP, for https-less
# loopback clients on IPv4 and IPv6, and CORS lets an allowed origin read /token's
# metadata and nothing else. Then .ci/browser/account-flows.js walks forgot-password ->
# mail -> reset -> sign-in and two-factor enrolment -> sign-in with a code; with
# SCREENSHOTS=DIR it saves the pages README shows (docs/screenshots). Installs Chromium
# (apt) and playwright-core (npm ci) if needed.
set -euo pipefail
cd "$(dirname "$0")/.."

AUTH_PORT=${AUTH_PORT:-18290}
CB_PORT=${CB_PORT:-18291}
WORK=$(mktemp -d /tmp/ci-browser.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ci: installing Chromium from Debian's packages"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
  else
    echo "ci: Chromium is required (Debian package chromium)" >&2
    exit 1
  fi
fi
(cd .ci/browser && npm ci --no-audit --no-fund --silent)

cargo build --locked -p auth-server
BIN="${CARGO_TARGET_DIR:-target}/debug"
auth="http://127.0.0.1:$AUTH_PORT"
mkdir -p "$WORK/mail"
export DATABASE_URL="sqlite://$WORK/browser.sqlite3" RUST_LOG=error ISSUER="$auth" \
  MAIL_TRANSPORT="file:$WORK/mail"
"$BIN/auth-server" migrate >/dev/null
printf '%s' 'violet-anchor-tundra-42' | "$BIN/auth-server" users create --username browser --email browser@example.com >/dev/null
client_id() { sed -n 's/.*"client_id": *"\([^"]*\)".*/\1/p'; }
# Loopback redirect URIs match on any port (RFC 8252 §7.3): registered without one.
v4=$("$BIN/auth-server" clients create --name "IPv4 app" --redirect-uri http://127.0.0.1/callback --public | client_id)
v6=$("$BIN/auth-server" clients create --name "IPv6 app" --redirect-uri "http://[::1]/callback" --public | client_id)

AUTH_SERVER_BIND="127.0.0.1:$AUTH_PORT" CORS_ALLOWED_ORIGINS="http://127.0.0.1:$CB_PORT" \
  "$BIN/auth-server" serve >"$WORK/auth.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -fs "$auth/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

clients=$(printf '[{"name":"IPv4 app","id":"%s","redirect":"http://127.0.0.1:%s/callback"},{"name":"IPv6 app","id":"%s","redirect":"http://[::1]:%s/callback"}]' \
  "$v4" "$CB_PORT" "$v6" "$CB_PORT")
if ! AS="$auth" CB_PORT="$CB_PORT" CLIENTS="$clients" USERNAME=browser PASSWORD=violet-anchor-tundra-42 \
  node .ci/browser/consent-flow.js; then
  echo "ci: auth-server log:" >&2
  cat "$WORK/auth.log" >&2
  exit 1
fi
if ! AS="$auth" MAIL_DIR="$WORK/mail" USERNAME=browser PASSWORD=violet-anchor-tundra-42 \
  SCREENSHOTS="${SCREENSHOTS:-}" node .ci/browser/account-flows.js; then
  echo "ci: auth-server log:" >&2
  cat "$WORK/auth.log" >&2
  exit 1
fi
