#!/usr/bin/env bash
# Makes sure Redis answers on 127.0.0.1:6379 for the shared rate-limit tests, starting a
# throwaway server (no persistence) when none runs, and installing redis-server with
# apt-get when it is missing. Fails with a clear message when none of this works.
set -euo pipefail

HOST=127.0.0.1
PORT=${REDIS_PORT:-6379}

ready() {
  # An inline PING; Redis answers +PONG.
  { exec 3<>"/dev/tcp/$HOST/$PORT"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  local reply=""
  read -r -t 2 reply <&3 || true
  exec 3>&-
  [[ "$reply" == +PONG* ]]
}

ready && exit 0

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ci: installing redis-server from Debian's packages"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
  else
    echo "ci: Redis is not running on $HOST:$PORT and redis-server is not installed" >&2
    exit 1
  fi
fi

echo "ci: starting redis-server on $HOST:$PORT"
redis-server --bind "$HOST" --port "$PORT" --save '' --appendonly no --daemonize yes \
  --logfile /tmp/ci-redis.log
for _ in $(seq 1 30); do
  ready && exit 0
  sleep 0.5
done
echo "ci: redis-server did not start; see /tmp/ci-redis.log" >&2
exit 1
