# Shared by test/demo.sh, test/run.sh and the benchmarks: install what is
# missing, build and install guard.  Sourced, not run.  Needs root.

GUARD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# GUARD_PG_CONFIG: the server to build and test against.  Default: Debian's
# PostgreSQL 15; test/pg18/run.sh points it at the 18 of test/pg18/build.sh.
if [ -n "${GUARD_PG_CONFIG:-}" ]; then
	PG_BIN=$("$GUARD_PG_CONFIG" --bindir)
else
	GUARD_PG_CONFIG=/usr/bin/pg_config
	PG_BIN=/usr/lib/postgresql/15/bin
fi
export PATH="$PG_BIN:$PATH"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# guard_deps [extra packages...]: apt-get only what is not installed yet.
guard_deps() {
	[ "$(id -u)" = 0 ] || { echo "run this as root (it installs packages and guard)" >&2; exit 1; }
	local pkgs=(postgresql-15 postgresql-server-dev-15 postgresql-client-15
		libipc-run-perl make gcc libyaml-dev python3-yaml chromium "$@")
	local missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q
		apt-get install -y -q --no-install-recommends "${missing[@]}"
	fi
}

# guard_build: build with warnings as errors, install into the server.
guard_build() {
	local stamp="$GUARD_ROOT/.guard-built-for" target
	target="$GUARD_PG_CONFIG $("$GUARD_PG_CONFIG" --version)"
	say "building and installing guard ($target)"
	# objects built for another server must not be linked for this one
	if [ "$(cat "$stamp" 2>/dev/null)" != "$target" ]; then
		make -C "$GUARD_ROOT" -s PG_CONFIG="$GUARD_PG_CONFIG" clean >/dev/null
		echo "$target" > "$stamp"
	fi
	# a failed build must fail here, not install the previous library
	make -C "$GUARD_ROOT" -s PG_CONFIG="$GUARD_PG_CONFIG" PG_CFLAGS=-Werror >/dev/null &&
		make -C "$GUARD_ROOT" -s PG_CONFIG="$GUARD_PG_CONFIG" install >/dev/null
}

# guard_workdir NAME: a fresh directory the postgres user can write to.
guard_workdir() {
	local d
	d=$(mktemp -d "/tmp/guard-$1.XXXXXX")
	chown postgres: "$d"
	echo "$d"
}

as_postgres() { runuser -u postgres -- "$@"; }

# guard_locked CMD...: run CMD holding /tmp/guard-test.lock, the lock of the
# system PostgreSQL 15's library directory that parallel test runs on one
# machine share; without it when the caller holds it already
# (GUARD_LOCK_HELD=1: test/run.sh, which installs into 15 itself, sets it
# for the suites it runs, so a caller that locks test/run.sh does not
# deadlock with them).
guard_locked() {
	if [ "${GUARD_LOCK_HELD:-0}" = 1 ]; then "$@"; else flock /tmp/guard-test.lock "$@"; fi
}
