#!/bin/sh
# The container's entrypoint (deploy/Dockerfile; the same script starts the topology test,
# test/e2e/production-topology.test.ts).
#
#   entrypoint.sh [serve]      apply pending migrations, then become `tracegate serve`
#   entrypoint.sh <command>    any other tracegate command (keys create, audit verify, ...)
#
# Before either it
# - reads secrets from files: for each of TRACEGATE_HMAC_SECRET, TRACEGATE_BOOTSTRAP_ADMIN_KEY,
#   DATABASE_URL and REDIS_URL, a variable <NAME>_FILE names a file (a compose or Kubernetes
#   secret) whose content, without trailing newlines, becomes <NAME>. Setting both is an
#   error. (TRACEGATE_SIGNING_KEY_FILE is read by the gateway itself.)
# - in production (NODE_ENV=production) refuses to go on without the settings the gateway
#   requires there, with one `error:` line each, before touching the database.
#
# `serve` is exec'd, so it runs as this process: SIGTERM from the orchestrator reaches the
# gateway, which drains and exits 0 (README "Stopping").
#
# Migrations: every replica runs `tracegate migrate` at start. On PostgreSQL, Prisma's
# `migrate deploy` holds an advisory lock for its whole run, so replicas starting together
# apply each migration once and the others find nothing pending. A failed attempt (the
# database still starting, the lock not obtained within Prisma's 10 s) is retried
# TRACEGATE_MIGRATE_ATTEMPTS times in all (default 5), 3 s apart.
set -eu

APP_DIR=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)

# One line, `error: <message> [<CODE>]`, exit 1: the CLI's own convention (src/cli/main.ts).
fail() {
  code=$1
  shift
  printf 'error: %s [%s]\n' "$*" "$code" >&2
  exit 1
}

# <NAME>_FILE -> <NAME>; the _FILE variable is removed so the gateway sees one source only.
from_file() {
  name=$1
  eval "file=\${${name}_FILE:-}"
  eval "value=\${${name}:-}"
  [ -n "$file" ] || return 0
  [ -z "$value" ] || fail CONFIG "both $name and ${name}_FILE are set: set only one."
  [ -r "$file" ] || fail CONFIG "${name}_FILE: cannot read $file (missing, or not readable by uid $(id -u))."
  value=$(cat -- "$file")
  [ -n "$value" ] || fail CONFIG "${name}_FILE: $file is empty."
  export "$name=$value"
  unset "${name}_FILE"
}

from_file TRACEGATE_HMAC_SECRET
from_file TRACEGATE_BOOTSTRAP_ADMIN_KEY
from_file DATABASE_URL
from_file REDIS_URL

if [ "${NODE_ENV:-}" = production ]; then
  [ -n "${TRACEGATE_HMAC_SECRET:-}" ] ||
    fail CONFIG "TRACEGATE_HMAC_SECRET (or TRACEGATE_HMAC_SECRET_FILE) is required when NODE_ENV=production: the chain's HMAC key, the same on every replica."
  [ "${#TRACEGATE_HMAC_SECRET}" -ge 32 ] ||
    fail CONFIG "TRACEGATE_HMAC_SECRET must be at least 32 characters in production."
  if [ -n "${TRACEGATE_SIGNING_KEY_FILE:-}" ]; then
    [ -r "$TRACEGATE_SIGNING_KEY_FILE" ] ||
      fail CONFIG "TRACEGATE_SIGNING_KEY_FILE: cannot read $TRACEGATE_SIGNING_KEY_FILE (missing, or not readable by uid $(id -u))."
  elif [ -z "${TRACEGATE_SIGNING_KEY:-}" ]; then
    echo "tracegate: WARNING: no TRACEGATE_SIGNING_KEY(_FILE): signed checkpoints are unavailable." >&2
  fi
fi

tracegate() {
  node "$APP_DIR/bin/tracegate.js" "$@"
}

if [ "$#" -gt 0 ] && [ "$1" != serve ]; then
  exec node "$APP_DIR/bin/tracegate.js" "$@"
fi
[ "$#" -eq 0 ] || shift

attempts=${TRACEGATE_MIGRATE_ATTEMPTS:-5}
case $attempts in '' | *[!0-9]* | 0) fail CONFIG "TRACEGATE_MIGRATE_ATTEMPTS must be a positive integer, got '$attempts'." ;; esac
attempt=1
until tracegate migrate; do
  [ "$attempt" -lt "$attempts" ] || fail MIGRATION_FAILED "tracegate migrate failed $attempts time(s); not starting the gateway."
  echo "tracegate: migration attempt $attempt of $attempts failed; retrying in 3 s." >&2
  attempt=$((attempt + 1))
  sleep 3
done

# The young-generation size `npm start` uses (README "Configuration").
exec node --max-semi-space-size=64 "$APP_DIR/bin/tracegate.js" serve "$@"
