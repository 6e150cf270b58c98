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

# pg_stat_statements is server-wide and keeps 5000 statements by default: a full test run's
# databases fill it, and it then evicts the least-called entries, such as a test's own statement
# run once. 20000 keeps every test's statements for a whole run (both need a restart).
STATEMENTS_MAX=20000
restart_pg_now() {
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION_DIR" main restart
  wait_for pg_up || { echo "services: PostgreSQL did not come back" >&2; exit 1; }
}
if ! pg "SHOW shared_preload_libraries" | grep -q pg_stat_statements; then
  echo "services: preloading pg_stat_statements (ALTER SYSTEM + restart)"
  current=$(pg "SHOW shared_preload_libraries")
  libs=${current:+$current,}pg_stat_statements
  pg "ALTER SYSTEM SET shared_preload_libraries = '$libs'"
  # The library's settings are known (and settable) only once it is loaded.
  restart_pg_now
fi
max=$(pg "SELECT setting FROM pg_settings WHERE name = 'pg_stat_statements.max'" || true)
if [ -z "$max" ] || [ "$max" -lt "$STATEMENTS_MAX" ]; then
  echo "services: pg_stat_statements.max ${max:-unset} -> $STATEMENTS_MAX"
  pg "ALTER SYSTEM SET pg_stat_statements.max = $STATEMENTS_MAX"
  restart_pg_now
fi
pg "SHOW shared_preload_libraries" | grep -q pg_stat_statements
echo "services: PostgreSQL $(pg 'SHOW server_version') with $(pg 'SHOW shared_preload_libraries') (max $(pg 'SHOW pg_stat_statements.max') statements)"

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

# Installs a Debian package for its binary alone: no service of it starts during the install.
install_binary_only() { # <package> <name shown>
  local pkg=$1 name=$2
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "services: $name missing; install it: sudo apt-get install --no-install-recommends $pkg" >&2
    exit 1
  fi
  echo "services: installing $pkg (Debian package; binary only)"
  # Keep the postinst from starting the service at all. Docker images already ship a
  # policy-rc.d that denies every start; elsewhere put one in place for the install only.
  local policy=/usr/sbin/policy-rc.d own_policy="" ok=1
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# vigil .ci/services.sh: no service starts while installing\nexit 101\n' > "$policy"
    chmod 0755 "$policy"
    own_policy=1
  fi
  # The package lists may be missing or stale (slim images): update once and retry on failure.
  apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null; }
  apt_install 2>/dev/null || { apt-get update -qq >/dev/null && apt_install; } || ok=""
  if [ -n "$own_policy" ]; then rm -f "$policy"; fi
  [ -n "$ok" ] || { echo "services: installing $pkg failed" >&2; exit 1; }
}

# Whether just installed or installed long ago: a package's own service stays stopped and
# disabled. (Only the service's own instance is touched, through its init system and pid file;
# instances that tests started are left alone.)
keep_service_off() { # <service>
  local svc=$1
  [ -e "/etc/init.d/$svc" ] || [ -e "/lib/systemd/system/$svc.service" ] || return 0
  if [ -d /run/systemd/system ] && systemctl is-active --quiet "$svc" 2>/dev/null; then
    echo "services: stopping the packaged $svc service"
    systemctl stop "$svc"
  elif [ -x "/etc/init.d/$svc" ] && "/etc/init.d/$svc" status >/dev/null 2>&1; then
    echo "services: stopping the packaged $svc service"
    "/etc/init.d/$svc" stop >/dev/null
  fi
  if command -v systemctl >/dev/null && systemctl is-enabled --quiet "$svc" 2>/dev/null; then
    echo "services: disabling the packaged $svc service (systemd)"
    systemctl disable --quiet "$svc" 2>/dev/null || true
  fi
  if compgen -G "/etc/rc[2345].d/S*$svc" >/dev/null && command -v update-rc.d >/dev/null; then
    echo "services: disabling the packaged $svc service (sysvinit)"
    update-rc.d "$svc" disable >/dev/null 2>&1 || true
  fi
}

# Alertmanager, for end-to-end tests against the real thing (test/support/alertmanager.ts starts
# its own instances on free loopback ports). Only the binary is wanted: Debian's package also
# ships a service listening on :9093 (+ gossip on :9094), which must not be left running.
am_binary() { command -v prometheus-alertmanager || command -v alertmanager || true; }
[ -n "$(am_binary)" ] || install_binary_only prometheus-alertmanager Alertmanager
keep_service_off prometheus-alertmanager
am=$(am_binary)
[ -n "$am" ] || { echo "services: no Alertmanager binary on PATH after install" >&2; exit 1; }
echo "services: Alertmanager $("$am" --version 2>&1 | sed -n 's/.*version \([^ ]*\).*/\1/p;q') ($am)"

# Prometheus, for the SLO tests (test/support/prometheus.ts starts its own instances with their own
# config and data directory on free loopback ports, scraping a test exporter). Only the binary is
# wanted: Debian's package also ships a service on :9090 (and pulls node-exporter in as a
# recommendation), neither of which may be left running.
command -v prometheus >/dev/null || install_binary_only prometheus Prometheus
keep_service_off prometheus
command -v prometheus >/dev/null || { echo "services: no prometheus binary on PATH after install" >&2; exit 1; }
echo "services: Prometheus $(prometheus --version 2>&1 | sed -n 's/.*version \([^ ]*\).*/\1/p;q') ($(command -v prometheus))"
