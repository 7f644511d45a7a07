#!/usr/bin/env bash
# CI: the systemd units in deploy/systemd/ pass `systemd-analyze verify` (unknown or
# misspelt directives, bad values, a missing binary). The units name /usr/local/bin; here
# they are checked with ExecStart pointing at the binaries just built.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v systemd-analyze >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null
  else
    echo "systemd: systemd-analyze is required (Debian package systemd)" >&2
    exit 1
  fi
fi
cargo build --locked -p auth-server -p resource-api >&2
target=${CARGO_TARGET_DIR:-$PWD/target}/debug
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for unit in deploy/systemd/*.service; do
  sed "s#/usr/local/bin/#$target/#" "$unit" >"$work/$(basename "$unit")"
done
# A directive systemd does not know is only a warning for `verify`; fail on it too.
output=$(systemd-analyze verify "$work"/*.service 2>&1) || { echo "$output"; exit 1; }
if grep -E "Unknown (key|section)|Failed to parse|Invalid" <<<"$output" | grep -v "multi-user.target\|network-online"; then
  echo "systemd: the units have errors" >&2
  exit 1
fi
echo "systemd: $(ls deploy/systemd/*.service | wc -l) units verified"
