#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine (as root): InfluxDB and the Mosquitto clients from
# Debian's packages, then the npm dependencies. Safe to run again.
# --cluster: also Debian's redis-server and postgresql, for the clustered mode (GS_CLUSTER=redis,
# GS_POSTGRES_URL) and its tests (test/integration/cluster, and the alert and work-order tests,
# which run on SQLite and PostgreSQL both); the one-process default never needs either.
set -euo pipefail
cluster=false
[ "${1:-}" = "--cluster" ] && cluster=true
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null; then
  need=()
  command -v influxd >/dev/null || need+=(influxdb)
  command -v mosquitto >/dev/null || need+=(mosquitto)
  command -v mosquitto_pub >/dev/null || need+=(mosquitto-clients)
  # The browser tests of the web pages: Debian's Chromium and a CJK font for the Chinese pages.
  command -v chromium >/dev/null || need+=(chromium)
  dpkg -s fonts-wqy-zenhei >/dev/null 2>&1 || need+=(fonts-wqy-zenhei)
  if $cluster; then
    command -v redis-server >/dev/null || need+=(redis-server)
    # Debian puts PostgreSQL's server binaries in /usr/lib/postgresql/<major>/bin, off PATH.
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || need+=(postgresql)
  fi
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi
  # Debian's influxdb service (when systemd runs it) listens on :8086 and the app uses
  # it; otherwise the app starts its own. The mosquitto broker is only for the tests (an
  # outside broker): keep its service off so that port 1883 stays ours.
  if command -v systemctl >/dev/null && systemctl is-enabled mosquitto >/dev/null 2>&1; then
    systemctl disable --now mosquitto >/dev/null 2>&1 || true
  fi
else
  echo "not a Debian/Ubuntu machine: install InfluxDB and mosquitto-clients yourself" >&2
fi
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
