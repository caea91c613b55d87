#!/usr/bin/env bash
# Build PostgreSQL 18 once, from Debian's source package, into a cache
# directory that later runs reuse (guard's own tests against 18 use it).
# Run as root:
#   bash test/pg18/build.sh
# GUARD_PG18_CACHE overrides the cache directory (default /var/cache/guard-pg18).
# Result: $CACHE/pg18/bin/pg_config, with PGXS and the TAP modules installed.
#
# Only the source package comes from sid (a deb-src entry, no binary
# packages); the build dependencies come from bookworm.  A stamp file makes a
# second run a no-op; a failed or interrupted build leaves no stamp, so the
# next run starts that step again.
set -euo pipefail

CACHE=${GUARD_PG18_CACHE:-/var/cache/guard-pg18}
PREFIX=$CACHE/pg18
STAMP=$PREFIX/.guard-build-stamp
SRC_LIST=/etc/apt/sources.list.d/guard-sid-src.sources
JOBS=${GUARD_PG18_JOBS:-$(nproc)}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "run this as root (it adds an apt source and installs packages)" >&2; exit 1; }

# one build at a time: a second caller waits, then finds the stamp
mkdir -p "$CACHE"
exec 9>"$CACHE/.build.lock"
flock 9

if [ -f "$STAMP" ] && [ -x "$PREFIX/bin/pg_config" ]; then
	echo "PostgreSQL 18 already built: $PREFIX ($(cat "$STAMP"))"
	exit 0
fi
start=$(date +%s)

# 1. build dependencies, from bookworm (perl and IPC::Run for the TAP tests)
deps=(build-essential dpkg-dev bison flex perl libipc-run-perl pkg-config)
missing=()
for p in "${deps[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
	say "installing build dependencies from bookworm: ${missing[*]}"
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# 2. the source package, from sid's deb-src (never its binaries)
mkdir -p "$CACHE/src"
if ! ls "$CACHE"/src/postgresql-18_*.dsc >/dev/null 2>&1; then
	if [ ! -f "$SRC_LIST" ]; then
		say "adding $SRC_LIST (deb-src only, suite sid)"
		cat > "$SRC_LIST" <<'SOURCES'
# Added by guard's test/pg18/build.sh: the source of postgresql-18 only.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
	fi
	say "apt-get update"
	apt-get update -q
	say "downloading the postgresql-18 source package into $CACHE/src"
	(cd "$CACHE/src" && apt-get source -q --download-only postgresql-18)
fi
dsc=$(ls "$CACHE"/src/postgresql-18_*.dsc | sort -V | tail -1)

# 3. unpack the upstream tree, without Debian's patches: they hardwire
# pkglibdir to /usr/lib/postgresql/18/lib whatever the prefix (so a build
# would install outside the cache) and move the default socket directory.
# Into a fresh tree: a half-unpacked one is thrown away.
tree=$CACHE/src/postgresql-18
if [ ! -f "$tree/.guard-unpacked" ]; then
	say "unpacking $(basename "$dsc") (upstream source, Debian patches skipped)"
	rm -rf "$tree" "$tree.tmp" "$CACHE/build"
	dpkg-source --no-check --skip-patches -x "$dsc" "$tree.tmp"
	mv "$tree.tmp" "$tree"
	touch "$tree/.guard-unpacked"
fi

# 4. configure, build, install (a VPATH build keeps the source tree clean)
build=$CACHE/build
if [ ! -f "$build/config.status" ]; then
	say "configure (prefix $PREFIX)"
	rm -rf "$build"
	mkdir -p "$build"
	(cd "$build" && "$tree/configure" --prefix="$PREFIX" \
		--without-icu --without-readline --without-zlib \
		--enable-tap-tests --enable-debug \
		> configure.log 2>&1) || { tail -30 "$build/configure.log"; rm -f "$build/config.status"; exit 1; }
fi
say "make -j$JOBS (about 4 minutes on two cores; log: $build/make.log)"
make -C "$build" -j"$JOBS" > "$build/make.log" 2>&1 || { tail -40 "$build/make.log"; exit 1; }
say "make install"
make -C "$build" install > "$build/install.log" 2>&1 || { tail -40 "$build/install.log"; exit 1; }

# PGXS's prove_installcheck wants the TAP modules under $(pgxsdir)/src/test/perl
pgxs=$(cd "$(dirname "$("$PREFIX/bin/pg_config" --pgxs)")/../.." && pwd)
for f in src/test/perl/PostgreSQL/Test/Cluster.pm src/test/regress/pg_regress; do
	[ -e "$pgxs/$f" ] || { echo "missing after install: $pgxs/$f" >&2; exit 1; }
done

# the postgres user runs the tests: it must be able to read the tree
chmod -R a+rX "$CACHE"
version=$("$PREFIX/bin/pg_config" --version)
echo "$version, from $(basename "$dsc"), built $(date -u +%FT%TZ) in $(( $(date +%s) - start ))s" > "$STAMP"
say "done: $(cat "$STAMP")"
echo "pg_config: $PREFIX/bin/pg_config"
