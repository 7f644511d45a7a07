#!/usr/bin/env bash
# Benchmark: the authorization-code exchange end to end (GET /authorize -> code ->
# POST /token) on SQLite and PostgreSQL, plain OAuth and with `openid` (the token response
# then carries an ID token: RS256 for one client, EdDSA for another, so the difference
# between the two openid lines is the signature's own cost), next to GET /healthz on the
# same server as the baseline measured in the same run.
#
#   bash bench/token_exchange.sh            # both backends
#   BACKENDS=sqlite bash bench/token_exchange.sh
#   DURATION=30s CONNECTIONS=32 bash bench/token_exchange.sh
#
# Prints one line per measurement: requests/s, p50 and p99 latency (ms), errors, and for
# the exchange the number of complete flows per second (= requests / 2), its ratio to the
# baseline and the server's CPU µs per request (utime + stime over the requests). Every
# token answer is checked: with `openid` it must carry an id_token, without it must not.
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
  # One client per ID-token algorithm; the plain variant uses the RS256 one.
  declare -A client_id secret
  for alg in RS256 EdDSA; do
    client=$("$BIN/auth-server" clients create --name "Bench $alg" --redirect-uri "$REDIRECT" \
      --scope "openid offline_access tasks:read tasks:write" --id-token-alg "$alg")
    client_id[$alg]=$(printf '%s' "$client" | sed -n 's/.*"client_id": "\([^"]*\)".*/\1/p')
    secret[$alg]=$(printf '%s' "$client" | sed -n 's/.*"client_secret": "\([^"]*\)".*/\1/p')
  done
  start_auth_server "$url" "$PORT"
  base="http://127.0.0.1:$PORT"

  # Sign in once and give consent once (to the wider scope), as the person would.
  jar="$WORK/cookies"
  sign_in "$base" "$jar" bench violet-anchor-tundra-42
  session=$(awk '$6 == "session" { print $7 }' "$jar")
  authorize_for() { # CLIENT_ID SCOPE
    printf '/authorize?response_type=code&client_id=%s&redirect_uri=https%%3A%%2F%%2Fapp.example.com%%2Fcallback&scope=%s&state=bench&nonce=n-0S6_WzA2Mj&code_challenge=%s&code_challenge_method=S256' \
      "$1" "$2" "$CHALLENGE"
  }
  for alg in RS256 EdDSA; do
    allow_consent "$base" "$jar" "$base$(authorize_for "${client_id[$alg]}" 'openid%20offline_access%20tasks%3Aread%20tasks%3Awrite')"
  done

  read -r rps p50 p99 bad _ < <(load "$base/healthz")
  printf '%-9s %-22s %10s %9s %9s %8s %s\n' "$backend" "GET /healthz" "$rps" "$p50" "$p99" "$bad" "baseline"
  base_rps=$rps

  export SESSION_COOKIE="session=$session"
  export TOKEN_BODY_PREFIX="grant_type=authorization_code&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&code_verifier=$VERIFIER"
  openid_scope='openid%20offline_access%20tasks%3Aread%20tasks%3Awrite'
  for variant in plain openid-RS256 openid-EdDSA; do
    # offline_access: a refresh token too, so every variant writes the same rows.
    case $variant in
      plain) alg=RS256 scope='tasks%3Aread%20tasks%3Awrite' EXPECT_ID_TOKEN=no label="authorize+token" ;;
      openid-*) alg=${variant#openid-} scope=$openid_scope EXPECT_ID_TOKEN=yes label="authorize+token $alg" ;;
    esac
    export AUTHORIZE_PATH=$(authorize_for "${client_id[$alg]}" "$scope") EXPECT_ID_TOKEN
    export CLIENT_BASIC=$(printf '%s:%s' "${client_id[$alg]}" "${secret[$alg]}" | base64 -w0)
    before=$(cpu_ticks "$SERVER_PID")
    read -r rps p50 p99 bad requests < <(load "$base" -s "$(dirname "$0")/token_exchange.lua")
    after=$(cpu_ticks "$SERVER_PID")
    flows=$(awk -v r="$rps" 'BEGIN { printf "%.0f", r / 2 }')
    ratio=$(awk -v r="$rps" -v b="$base_rps" 'BEGIN { printf "%.3f", r / b }')
    cpu=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
      'BEGIN { printf "%.1f", n ? t / hz * 1e6 / n : 0 }')
    printf '%-9s %-22s %10s %9s %9s %8s %s\n' "$backend" "$label" "$rps" "$p50" "$p99" "$bad" \
      "$flows flows/s; ${ratio}x baseline req/s; ${cpu} CPU µs/request"
  done

  stop_servers
  drop_database "$url"
done
