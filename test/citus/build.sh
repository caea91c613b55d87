#!/usr/bin/env bash
# Build and install Citus 13.2.2 into Debian's PostgreSQL 15, once, for
# test/t/023_citus.pl (doc/operations.md, "Citus").  Run as root:
#   bash test/citus/build.sh
# The source is not packaged by Debian: it comes from GUARD_CITUS_SRC, a
# directory holding citus-13.2.2.tar.gz and the patch PostgreSQL 15.20
# needs (default: ../shared/deps/citus beside the repository).  Exits 0
# with a message, building nothing, when Citus is already installed; exits
# 3 when the source is not there (the test then skips, and says so).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/bin/pg_config}
SRC=${GUARD_CITUS_SRC:-$root/../shared/deps/citus}
[ -f "$SRC/citus-13.2.2.tar.gz" ] || [ -n "${GUARD_CITUS_SRC:-}" ] || SRC=/work/shared/deps/citus

[ "$(id -u)" = 0 ] || { echo "run this as root (it installs packages and Citus)" >&2; exit 1; }
if [ -f "$("$PG_CONFIG" --pkglibdir)/citus.so" ]; then
	echo "Citus is installed in $("$PG_CONFIG" --pkglibdir)"
	exit 0
fi
if [ ! -f "$SRC/citus-13.2.2.tar.gz" ]; then
	echo "no Citus source in $SRC (set GUARD_CITUS_SRC): the Citus test will skip" >&2
	exit 3
fi
# guard's own dependencies, and Citus's build dependencies
source "$root/test/lib.sh"
guard_deps libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev libssl-dev
work=$(mktemp -d /tmp/guard-citus-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
say "building Citus 13.2.2 for $("$PG_CONFIG" --version) (about 2 minutes)"
tar -C "$work" -xzf "$SRC/citus-13.2.2.tar.gz"
cd "$work/citus-13.2.2"
patch -s -p1 < "$SRC/pg15.20-have_createdb_privilege.patch"
./configure PG_CONFIG="$PG_CONFIG" > "$work/configure.log" 2>&1 || { tail -30 "$work/configure.log"; exit 1; }
make -s -j"$(nproc)" > "$work/make.log" 2>&1 || { tail -30 "$work/make.log"; exit 1; }
make -s install > "$work/install.log" 2>&1 || { tail -30 "$work/install.log"; exit 1; }
echo "Citus installed in $("$PG_CONFIG" --pkglibdir)"
