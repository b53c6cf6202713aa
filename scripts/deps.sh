#!/usr/bin/env bash
# Installs and starts what rollcall's tests need on a Debian machine:
# PostgreSQL (a local cluster on 127.0.0.1:5432 with trust auth for local
# connections), Chromium with the emoji font, Node's npm for the ECharts
# asset, and systemd-analyze for the unit's test. Each step is skipped when already done; every change is announced.
#
# With --packages-only it installs the packages and stops there: the demo
# and the private database need PostgreSQL's programs, not the system's
# server, and must not change its authentication.
set -euo pipefail
packages_only=false
[ "${1:-}" = "--packages-only" ] && packages_only=true

say() { printf 'deps: %s\n' "$*" >&2; }
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

missing=()
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
{ [ -x /usr/lib/chromium/chromium ] || command -v chromium >/dev/null 2>&1; } || missing+=(chromium)
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || missing+=(fonts-noto-color-emoji)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# systemd-analyze verifies packaging/rollcall.service in the tests.
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} with apt-get"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if $packages_only; then
  exit 0
fi

# A TEST_DATABASE_URL names a server someone else runs: leave it alone.
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  say "using TEST_DATABASE_URL; not touching the local PostgreSQL"
  exit 0
fi

pg_ok() { psql "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&connect_timeout=3" -Atqc 'SELECT 1' >/dev/null 2>&1; }
if pg_ok; then
  exit 0
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if [ -z "$(pg_lsclusters -h 2>/dev/null | awk -v v="$version" '$1 == v && $2 == "main"')" ]; then
  say "creating PostgreSQL $version cluster main (trust auth on localhost)"
  $SUDO pg_createcluster "$version" main -- --auth-host=trust --auth-local=trust >/dev/null
fi
hba=$(ls /etc/postgresql/"$version"/main/pg_hba.conf)
if grep -Eq '^host\s+all\s+all\s+127\.0\.0\.1/32\s+(scram-sha-256|md5)' "$hba"; then
  say "switching localhost connections in $hba to trust, for tests"
  $SUDO sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)(scram-sha-256|md5)/\1trust/' "$hba"
fi
if pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main reload
else
  say "starting PostgreSQL $version"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
for _ in $(seq 1 30); do
  pg_ok && exit 0
  sleep 1
done
say "PostgreSQL did not come up on 127.0.0.1:5432; see /var/log/postgresql/"
exit 1
