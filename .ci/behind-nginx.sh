#!/usr/bin/env bash
# CI: both servers in production mode behind Debian's nginx, configured by
# deploy/nginx/tasks-account.conf (only names, ports and paths changed). Checks, through
# nginx with a verifying TLS client:
#   - the issuer and every endpoint in the metadata are the public https URLs, and the
#     redirects (plain http to https, /authorize to the sign-in page) stay on them;
#   - the audit log and the rate limiter see the client's address that nginx appends
#     (requests come from 127.0.0.2 and 127.0.0.3), never the X-Forwarded-For the client
#     forged; the task API's request log too.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "behind-nginx: $*" >&2; exit 1; }

install_package() {
  command -v "$1" >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || fail "$1 is required (Debian package $2)"
  # Installing must not start Debian's own nginx on port 80.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  }
  rm -f /usr/sbin/policy-rc.d
}
install_package nginx nginx
install_package openssl openssl
install_package curl curl
PATH=$PATH:/usr/sbin

cargo build --locked -p auth-server -p resource-api >&2
bin=${CARGO_TARGET_DIR:-$PWD/target}/debug
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
auth_port=$(free_port); api_port=$(free_port); https_port=$(free_port); http_port=$(free_port)
auth="https://auth.localhost:$https_port"
api="https://api.localhost:$https_port"

# A certificate for both names, from a CA of this run that the client trusts alone.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=behind-nginx test CA" \
  -keyout "$work/ca.key" -out "$work/ca.pem" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=auth.localhost" -keyout "$work/site.key" \
  -out "$work/site.csr" 2>/dev/null
printf 'subjectAltName=DNS:auth.localhost,DNS:api.localhost\n' >"$work/san.ext"
openssl x509 -req -in "$work/site.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -days 2 -extfile "$work/san.ext" -out "$work/site.pem" 2>/dev/null
for name in auth.example.com api.example.com; do
  mkdir -p "$work/live/$name"
  cp "$work/site.pem" "$work/live/$name/fullchain.pem"
  cp "$work/site.key" "$work/live/$name/privkey.pem"
done

# The repository's file, with this run's names, ports and paths.
sed -e "s#/etc/letsencrypt/live/#$work/live/#" \
    -e "s#server_name auth.example.com api.example.com;#server_name auth.localhost api.localhost;#" \
    -e "s#server_name auth\.example\.com;#server_name auth.localhost;#; s#server_name api\.example\.com;#server_name api.localhost;#" \
    -e "s#return 308 https://\$host\$request_uri;#return 308 https://\$host:$https_port\$request_uri;#" \
    -e "s#listen 443 ssl;#listen 127.0.0.1:$https_port ssl;#" \
    -e "s#listen 80;#listen 127.0.0.1:$http_port;#" \
    -e "s#127.0.0.1:8080;#127.0.0.1:$auth_port;#; s#127.0.0.1:8081;#127.0.0.1:$api_port;#" \
    deploy/nginx/tasks-account.conf >"$work/tasks-account.conf"
grep -q "server_name.*example.com" "$work/tasks-account.conf" && fail "the config still names example.com"
mkdir -p "$work/tmp"
cat >"$work/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events {}
http {
    access_log $work/nginx-access.log;
    client_body_temp_path $work/tmp/body;
    proxy_temp_path $work/tmp/proxy;
    fastcgi_temp_path $work/tmp/fastcgi;
    uwsgi_temp_path $work/tmp/uwsgi;
    scgi_temp_path $work/tmp/scgi;
    include $work/tasks-account.conf;
}
EOF
nginx -t -c "$work/nginx.conf" -p "$work" 2>"$work/nginx-test.log" || { cat "$work/nginx-test.log"; fail "nginx refused the config"; }

# Both servers as in production, reachable only through nginx.
export APP_ENV=production DATABASE_URL="sqlite://$work/oauth.sqlite3" \
  KEY_ENCRYPTION_KEY="$(openssl rand -base64 33)" MAIL_TRANSPORT="file:$work/mail" \
  ISSUER="$auth" RESOURCE_API_URL="$api" TRUST_PROXY_HEADERS=true \
  AUTH_SERVER_BIND="127.0.0.1:$auth_port" RESOURCE_API_BIND="127.0.0.1:$api_port" \
  JWKS_URL="http://127.0.0.1:$auth_port/jwks.json" HTTP_WORKERS=1 RATE_LIMIT_LOGIN=3/1m
mkdir -p "$work/mail"
"$bin/auth-server" migrate >/dev/null
"$bin/auth-server" serve 2>"$work/auth.log" &
pids+=($!)
LOG_FORMAT=json "$bin/resource-api" serve 2>"$work/api.log" &
pids+=($!)
nginx -c "$work/nginx.conf" -p "$work"

# A verifying client reaching both names on nginx's port, from the source address $from.
from=127.0.0.2
client() {
  curl -sS --cacert "$work/ca.pem" --interface "$from" \
    --resolve "auth.localhost:$https_port:127.0.0.1" --resolve "api.localhost:$https_port:127.0.0.1" \
    --resolve "auth.localhost:$http_port:127.0.0.1" "$@"
}
for _ in $(seq 1 100); do
  client -fo /dev/null "$auth/readyz" 2>/dev/null && client -fo /dev/null "$api/readyz" 2>/dev/null && break
  sleep 0.2
done
client -fo /dev/null "$auth/readyz" || { cat "$work/auth.log" "$work/nginx-error.log"; fail "auth-server not reachable through nginx"; }
client -fo /dev/null "$api/readyz" || { cat "$work/api.log"; fail "resource-api not reachable through nginx"; }
checks=0

# 1. The metadata names the public https URLs only.
client -f "$auth/.well-known/oauth-authorization-server" >"$work/metadata.json"
python3 - "$work/metadata.json" "$auth" <<'EOF' || fail "the metadata does not name the public https URLs"
import json, sys
metadata, issuer = json.load(open(sys.argv[1])), sys.argv[2]
assert metadata["issuer"] == issuer, (metadata["issuer"], issuer)
for name, value in metadata.items():
    if name.endswith("_endpoint") or name == "jwks_uri":
        assert value.startswith(issuer + "/"), (name, value)
EOF
checks=$((checks + 1))

# 2. Redirects stay on the public https URLs: plain http, and /authorize without a session.
location=$(client -o /dev/null -w '%{redirect_url}' "http://auth.localhost:$http_port/login?x=1")
[ "$location" = "$auth/login?x=1" ] || fail "http redirected to '$location'"
client_json=$("$bin/auth-server" clients create --name "Proxy check" --redirect-uri https://app.example.org/callback)
client_id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])' <<<"$client_json")
challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
headers=$(client -o /dev/null -D - "$auth/authorize?response_type=code&client_id=$client_id&redirect_uri=https%3A%2F%2Fapp.example.org%2Fcallback&code_challenge=$challenge&code_challenge_method=S256&state=s1")
location=$(tr -d '\r' <<<"$headers" | sed -n 's/^[Ll]ocation: //p')
case "$location" in
  /login*|"$auth"/login*) ;;
  *) fail "/authorize without a session redirected to '$location'" ;;
esac
checks=$((checks + 1))

# 3. Failed sign-ins with forged X-Forwarded-For: counted and audited under 127.0.0.2.
sign_in() { # prints the status of one failed sign-in from $from, with X-Forwarded-For $1
  local jar="$work/jar-$RANDOM" csrf
  csrf=$(client -c "$jar" "$auth/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
  [ -n "$csrf" ] || fail "no CSRF token on the sign-in page"
  client -b "$jar" -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: $1" \
    --data-urlencode "csrf_token=$csrf" --data-urlencode username=nobody \
    --data-urlencode password=wrong-password-123 "$auth/login"
}
statuses=""
for forged in 203.0.113.7 203.0.113.8 203.0.113.9 203.0.113.10; do
  statuses="$statuses $(sign_in "$forged")"
done
[ "${statuses##* }" = 429 ] || fail "the fourth sign-in from one client was not refused:$statuses"
case "$statuses" in *" 429 "*) fail "refused before the budget was spent:$statuses" ;; esac
from=127.0.0.3
status=$(sign_in 203.0.113.7)
[ "$status" != 429 ] || fail "another client's sign-in was refused: the limiter keyed on something else"
checks=$((checks + 1))

python3 - "$work/oauth.sqlite3" <<'EOF' || fail "the audit log holds another address than the client's"
import sqlite3, sys, time
deadline = time.time() + 10
while True:
    rows = sqlite3.connect(sys.argv[1]).execute(
        "SELECT ip FROM audit_events WHERE kind = 'login_failure' ORDER BY at").fetchall()
    if len(rows) >= 4 or time.time() > deadline:
        break
    time.sleep(0.2)
ips = [ip for (ip,) in rows]
assert ips.count("127.0.0.2") == 3 and ips.count("127.0.0.3") == 1, ips
assert not any(ip.startswith("203.0.113.") for ip in ips), ips
EOF
checks=$((checks + 1))

# 4. The task API's log names the client's address too.
from=127.0.0.2
status=$(client -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: 198.51.100.77" "$api/api/tasks")
[ "$status" = 401 ] || fail "the task API answered $status without a token"
for _ in $(seq 1 50); do grep -q '"http.route":"/api/tasks"' "$work/api.log" && break; sleep 0.1; done
grep '"http.route":"/api/tasks"' "$work/api.log" | grep -q '"http.client_ip":"127.0.0.2"' \
  || { cat "$work/api.log"; fail "the task API's log does not name 127.0.0.2"; }
grep -q "198.51.100.77" "$work/api.log" && fail "the task API believed a forged address"
checks=$((checks + 1))

echo "behind-nginx: $checks checks passed ($(nginx -v 2>&1 | sed 's/.*: //'), TLS, X-Forwarded-For)"
