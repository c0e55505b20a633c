#!/usr/bin/env bash
# Makes sure the Postgres server that DATABASE_URL points at can `create extension vector`.
#
# 1. Already available → nothing to do.
# 2. Debian/Ubuntu as root with a postgresql-<major>-pgvector package → apt-get install it.
# 3. Debian/Ubuntu as root without one (Debian 12 has none) → build Debian's own pgvector
#    source package (from trixie, deb-src only: no binary package from trixie is installed)
#    against the running server's headers: postgresql-server-dev-<major>, make, make install.
# 4. Anything else → stop with one message that names the fix.
#
# Usage: scripts/ensure-pgvector.sh   (reads DATABASE_URL; default: local server, db postgres)
set -euo pipefail

if [ -z "${DATABASE_URL:-}" ] && [ -f .env ]; then
  DATABASE_URL="$(sed -n 's/^[[:space:]]*DATABASE_URL[[:space:]]*=[[:space:]]*//p' .env | tail -n 1 | tr -d "\"'")"
fi

ADMIN_URL="${PGVECTOR_ADMIN_URL:-}"
if [ -z "$ADMIN_URL" ]; then
  if [ -n "${DATABASE_URL:-}" ]; then
    ADMIN_URL="$(printf '%s' "$DATABASE_URL" | sed -E 's#^(postgres(ql)?://[^/]*)/[^?]*#\1/postgres#')"
  else
    ADMIN_URL="postgresql://postgres@127.0.0.1:5432/postgres"
  fi
fi

say() { printf '[pgvector] %s\n' "$*" >&2; }
fail() {
  say "$*"
  say "Fix: on Debian/Ubuntu (as root): apt-get install postgresql-<major>-pgvector, or build it: https://github.com/pgvector/pgvector#installation"
  say "     on macOS: brew install pgvector"
  say "     with Docker: docker compose up -d db   (pgvector/pgvector image; then DATABASE_URL=postgresql://postgres:postgres@127.0.0.1:5432/iepgen)"
  exit 1
}

psql_admin() { psql "$ADMIN_URL" -X -v ON_ERROR_STOP=1 -tAc "$1"; }

command -v psql >/dev/null || fail "psql is not installed, so the database cannot be checked."
server_num="$(psql_admin 'show server_version_num' 2>/dev/null)" \
  || fail "Cannot reach Postgres at ${ADMIN_URL}. Start it (pg_ctlcluster <major> main start) or set DATABASE_URL."
major=$((server_num / 10000))
[ "$major" -ge 15 ] || fail "Postgres $major is too old: iepgen needs Postgres 15 or newer."

available() { [ "$(psql_admin "select count(*) from pg_available_extensions where name = 'vector'")" = "1" ]; }
hnsw_capable() {
  local v
  v="$(psql_admin "select default_version from pg_available_extensions where name = 'vector'")"
  [ "$(printf '%s\n0.8.0\n' "$v" | sort -V | head -n1)" = "0.8.0" ]
}

if available && hnsw_capable; then
  exit 0
fi

[ "$(id -u)" = "0" ] || fail "pgvector (>= 0.8, for HNSW) is not installed for Postgres $major and this user is not root."
command -v apt-get >/dev/null || fail "pgvector (>= 0.8) is not installed for Postgres $major and this is not a Debian/Ubuntu machine."
[ -x "/usr/lib/postgresql/$major/bin/postgres" ] || fail "The Postgres $major server binaries are not under /usr/lib/postgresql/$major (server not installed from Debian packages?)."

export DEBIAN_FRONTEND=noninteractive
apt_quiet() { apt-get -qq -o=Dpkg::Use-Pty=0 "$@" >/dev/null; }

say "pgvector is not installed for Postgres $major; installing it (one time, needs root)."
apt_quiet update || say "apt-get update reported problems; trying anyway."

candidate="$(apt-cache policy "postgresql-$major-pgvector" 2>/dev/null | awk '/Candidate:/ {print $2}')"
if [ -n "$candidate" ] && [ "$candidate" != "(none)" ] \
  && [ "$(printf '%s\n0.8.0\n' "${candidate#*:}" | sort -V | head -n1)" = "0.8.0" ]; then
  say "apt-get install postgresql-$major-pgvector ($candidate)"
  apt_quiet install -y "postgresql-$major-pgvector"
else
  say "No postgresql-$major-pgvector >= 0.8 package here: building Debian's pgvector source package against Postgres $major."
  src_list=/etc/apt/sources.list.d/iepgen-pgvector-src.sources
  if [ ! -f "$src_list" ]; then
    cat >"$src_list" <<'EOF'
# Added by iepgen's scripts/ensure-pgvector.sh: source packages only, to build pgvector.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    apt_quiet update || say "apt-get update reported problems; trying anyway."
  fi
  apt_quiet install -y --no-install-recommends dpkg-dev make gcc "postgresql-server-dev-$major"
  build_dir="$(mktemp -d)"
  trap 'rm -rf "$build_dir"' EXIT
  (
    cd "$build_dir"
    apt-get source -qq pgvector >/dev/null 2>&1 || { say "apt-get source pgvector failed."; exit 1; }
    cd pgvector-*/
    say "building $(basename "$PWD")"
    make -s PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" >/dev/null 2>&1
    make -s install PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" >/dev/null
  ) || fail "Building pgvector from source failed."
fi

available && hnsw_capable || fail "pgvector was installed but Postgres $major still does not offer a version >= 0.8."
say "pgvector $(psql_admin "select default_version from pg_available_extensions where name = 'vector'") is installed for Postgres $major."
