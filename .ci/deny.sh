#!/usr/bin/env bash
# cargo-deny with deny.toml, on both workspaces (the main one and fuzz/): licenses, bans
# (one crypto backend each for TLS and JWTs, no OpenSSL, no wildcard versions) and sources
# (crates.io only) always; RustSec advisories (and yanked crates) whenever the advisory
# database can be had.
#
# The database is a git repository on github.com. Where that cannot be reached and no copy
# is cached under $CARGO_HOME/advisory-dbs, the advisories are NOT checked, and this says so
# in a line starting "deny: advisories NOT checked"; DENY_ADVISORIES=require makes that a
# failure, DENY_ADVISORIES=skip skips them on purpose.
#
#   bash .ci/deny.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DENY_VERSION=0.20.2
DENY_ADVISORIES="${DENY_ADVISORIES:-auto}"
case "$DENY_ADVISORIES" in auto | require | skip) ;; *)
  echo "DENY_ADVISORIES is auto, require or skip, not '$DENY_ADVISORIES'" >&2
  exit 2
  ;;
esac

if [ "$(cargo deny --version 2>/dev/null || true)" != "cargo-deny $CARGO_DENY_VERSION" ]; then
  echo "installing cargo-deny $CARGO_DENY_VERSION"
  cargo install --locked "cargo-deny@$CARGO_DENY_VERSION"
fi

manifests=(Cargo.toml fuzz/Cargo.toml)
for manifest in "${manifests[@]}"; do
  echo "deny: licenses, bans, sources ($manifest)"
  cargo deny --locked --manifest-path "$manifest" check --hide-inclusion-graph \
    licenses bans sources
done

if [ "$DENY_ADVISORIES" = skip ]; then
  echo "deny: advisories NOT checked (DENY_ADVISORIES=skip)"
  exit 0
fi
db_home="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
offline=()
if cargo deny --locked fetch db; then
  echo "deny: advisory database fetched"
elif compgen -G "$db_home/advisory-db-*/crates" >/dev/null; then
  db=$(compgen -G "$db_home/advisory-db-*" | head -n 1)
  updated=$(git -C "$db" log -1 --format=%cs 2>/dev/null || echo "an unknown date")
  echo "deny: the advisory database cannot be fetched; checking against the copy in $db (of $updated)"
  offline=(--offline)
else
  echo "deny: advisories NOT checked: the RustSec advisory database (a git repository on"
  echo "deny: github.com) cannot be fetched from this machine, and no copy is cached in $db_home"
  if [ "$DENY_ADVISORIES" = require ]; then
    exit 1
  fi
  exit 0
fi
for manifest in "${manifests[@]}"; do
  echo "deny: advisories ($manifest)"
  cargo deny --locked "${offline[@]}" --manifest-path "$manifest" check --hide-inclusion-graph advisories
done
echo "deny: advisories checked"
