#!/usr/bin/env bash
# Checks the task API against its own OpenAPI document with schemathesis (PyPI): both
# servers run on a fresh SQLite file, a user signs in and gets an access token through the
# real authorization-code flow, and schemathesis fails the run on any 5xx or any response
# the document does not describe.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/oauth_flow.sh

SCHEMATHESIS_VERSION=4.32.5
AUTH_PORT=${AUTH_PORT:-18190}
API_PORT=${API_PORT:-18191}
WORK=$(mktemp -d /tmp/ci-schemathesis.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if ! python3 -m schemathesis.cli --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "ci: installing schemathesis $SCHEMATHESIS_VERSION from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --locked -p auth-server -p resource-api
BIN="${CARGO_TARGET_DIR:-target}/debug"
export DATABASE_URL="sqlite://$WORK/api.sqlite3" RUST_LOG=error
# Thousands of requests in seconds from one address and one user: lift the limits (the
# document lists 429 all the same), so every example reaches the handlers.
export RATE_LIMIT_PER_IP=1000000/1s RATE_LIMIT_PER_USER=1000000/1s
"$BIN/auth-server" migrate >/dev/null
printf '%s' 'violet-anchor-tundra-42' | "$BIN/auth-server" users create --username ci-user --email ci@example.com >/dev/null
client=$("$BIN/auth-server" clients create --name CI --redirect-uri https://app.example.com/callback --first-party)
client_id=$(sed -n 's/.*"client_id": *"\([^"]*\)".*/\1/p' <<<"$client")
client_secret=$(sed -n 's/.*"client_secret": *"\([^"]*\)".*/\1/p' <<<"$client")

AUTH_SERVER_BIND="127.0.0.1:$AUTH_PORT" "$BIN/auth-server" serve >"$WORK/auth.log" 2>&1 &
PIDS+=($!)
RESOURCE_API_BIND="127.0.0.1:$API_PORT" JWKS_URL="http://127.0.0.1:$AUTH_PORT/jwks.json" \
  "$BIN/resource-api" serve >"$WORK/api.log" 2>&1 &
PIDS+=($!)
for url in "http://127.0.0.1:$AUTH_PORT/readyz" "http://127.0.0.1:$API_PORT/readyz"; do
  for _ in $(seq 1 100); do curl -fs "$url" >/dev/null 2>&1 && break; sleep 0.1; done
done

auth="http://127.0.0.1:$AUTH_PORT"
verifier=ci-verifier-0123456789abcdef0123456789abcdef0123456789abcdef
jar="$WORK/cookies"
sign_in "$auth" "$jar" ci-user violet-anchor-tundra-42
code=$(authorization_code "$jar" "$auth/authorize?response_type=code&client_id=$client_id&code_challenge=$(pkce_challenge "$verifier")&code_challenge_method=S256")
token=$(curl -s -u "$client_id:$client_secret" -d grant_type=authorization_code -d "code=$code" \
  -d "code_verifier=$verifier" "$auth/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
if [ -z "$token" ]; then
  echo "ci: could not obtain an access token for schemathesis" >&2
  cat "$WORK/auth.log" >&2
  exit 1
fi

python3 -m schemathesis.cli run "http://127.0.0.1:$API_PORT/api/openapi.json" \
  -H "Authorization: Bearer $token" --checks all --max-examples 50 --seed 1
