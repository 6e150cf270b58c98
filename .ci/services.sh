#!/usr/bin/env bash
# Make sure the services the tests talk to are up: PostgreSQL with pg_stat_statements preloaded,
# and Redis. Safe to run again and again; changes nothing that is already right.
set -euo pipefail

PG_VERSION_DIR=$(ls /etc/postgresql | sort -V | tail -n 1)
pg() { psql -h 127.0.0.1 -U postgres -d postgres -tAqc "$1"; }

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q; }
start_pg() { pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION_DIR" main start || true; }
wait_for() { for _ in $(seq 1 60); do "$@" && return 0; sleep 0.5; done; return 1; }

if ! pg_up; then
  echo "services: starting PostgreSQL $PG_VERSION_DIR"
  start_pg
  wait_for pg_up || { echo "services: PostgreSQL did not start" >&2; exit 1; }
fi

if ! pg "SHOW shared_preload_libraries" | grep -q pg_stat_statements; then
  echo "services: preloading pg_stat_statements (ALTER SYSTEM + restart)"
  current=$(pg "SHOW shared_preload_libraries")
  libs=${current:+$current,}pg_stat_statements
  pg "ALTER SYSTEM SET shared_preload_libraries = '$libs'"
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION_DIR" main restart
  wait_for pg_up || { echo "services: PostgreSQL did not come back" >&2; exit 1; }
fi
pg "SHOW shared_preload_libraries" | grep -q pg_stat_statements
echo "services: PostgreSQL $(pg 'SHOW server_version') with $(pg 'SHOW shared_preload_libraries')"

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if ! redis_up; then
  echo "services: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for redis_up || { echo "services: Redis did not start" >&2; exit 1; }
fi
echo "services: Redis $(redis-cli -h 127.0.0.1 info server | grep -m1 redis_version | tr -d '\r')"

# The embedded-PostgreSQL test runs the binaries from node_modules as the `postgres` OS user
# (PostgreSQL refuses root). A clone under a 0700 directory (mktemp -d, /root) hides them from
# that user: grant traverse-only (o+x) on exactly the directories in the way.
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
  path=""
  IFS=/ read -ra parts <<< "$(pwd -P)"
  for part in "${parts[@]}"; do
    [ -n "$part" ] || continue
    path="$path/$part"
    if ! runuser -u postgres -- test -x "$path" 2>/dev/null; then
      echo "services: allowing the postgres user to traverse $path (o+x) for the embedded-PostgreSQL test"
      chmod o+x "$path"
    fi
  done
fi
