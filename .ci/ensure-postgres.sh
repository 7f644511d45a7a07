#!/usr/bin/env bash
# Makes sure PostgreSQL answers on 127.0.0.1:5432 (user postgres, trust auth) with a
# database named `test`, starting it when it is not running:
#   1. already up                          -> nothing to do
#   2. a Debian cluster exists             -> pg_ctlcluster ... main start
#   3. server binaries exist (or can be installed with apt-get) -> initdb + pg_ctl into a
#      temporary folder
# Fails with a clear message when none of these works.
set -euo pipefail

HOST=127.0.0.1
PORT=5432

ready() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$HOST" -p "$PORT" -U postgres
  else
    (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
  fi
}

wait_ready() {
  for _ in $(seq 1 30); do
    ready && return 0
    sleep 1
  done
  return 1
}

start_debian_cluster() {
  command -v pg_ctlcluster >/dev/null 2>&1 || return 1
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  [ -n "$version" ] || return 1
  echo "ci: starting PostgreSQL $version cluster 'main'"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || return 1
  wait_ready
}

start_temporary_cluster() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "ci: installing PostgreSQL from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    start_debian_cluster && return 0
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  fi
  [ -n "$bin" ] || return 1
  local data
  data=$(mktemp -d /tmp/ci-postgres.XXXXXX)
  local run_as=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$data"
    run_as=(runuser -u postgres --)
  fi
  echo "ci: initdb into $data"
  "${run_as[@]}" "$bin/initdb" -D "$data/data" -U postgres --auth=trust >/dev/null
  "${run_as[@]}" "$bin/pg_ctl" -D "$data/data" -l "$data/log" -w \
    -o "-c listen_addresses=$HOST -c port=$PORT -c unix_socket_directories=$data" start
  wait_ready
}

if ! ready; then
  start_debian_cluster || start_temporary_cluster || {
    echo "ci: PostgreSQL is not running on $HOST:$PORT and could not be started" >&2
    exit 1
  }
fi

# The admin database the tests connect to before creating one database per test.
if command -v psql >/dev/null 2>&1; then
  if [ "$(psql -h "$HOST" -p "$PORT" -U postgres -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
    psql -h "$HOST" -p "$PORT" -U postgres -d postgres -qc "CREATE DATABASE test"
  fi
fi
echo "ci: PostgreSQL is ready on $HOST:$PORT"
