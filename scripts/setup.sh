#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine (as root): InfluxDB and the Mosquitto clients from
# Debian's packages, then the npm dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null; then
  need=()
  command -v influxd >/dev/null || need+=(influxdb)
  command -v mosquitto >/dev/null || need+=(mosquitto)
  command -v mosquitto_pub >/dev/null || need+=(mosquitto-clients)
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi
  # Debian's package starts its own influxd on :8086; the app manages its own when
  # nothing answers, and either works. Leave the system service as the admin set it.
else
  echo "not a Debian/Ubuntu machine: install InfluxDB and mosquitto-clients yourself" >&2
fi
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
