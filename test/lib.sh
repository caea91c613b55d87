# Shared by test/demo.sh, test/run.sh and the benchmarks: install what is
# missing, build and install guard.  Sourced, not run.  Needs root.

GUARD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=/usr/lib/postgresql/15/bin
export PATH="$PG_BIN:$PATH"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# guard_deps [extra packages...]: apt-get only what is not installed yet.
guard_deps() {
	[ "$(id -u)" = 0 ] || { echo "run this as root (it installs packages and guard)" >&2; exit 1; }
	local pkgs=(postgresql-15 postgresql-server-dev-15 postgresql-client-15
		libipc-run-perl make gcc "$@")
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
	say "building and installing guard"
	# a failed build must fail here, not install the previous library
	make -C "$GUARD_ROOT" -s PG_CONFIG=/usr/bin/pg_config PG_CFLAGS=-Werror >/dev/null &&
		make -C "$GUARD_ROOT" -s PG_CONFIG=/usr/bin/pg_config install >/dev/null
}

# guard_workdir NAME: a fresh directory the postgres user can write to.
guard_workdir() {
	local d
	d=$(mktemp -d "/tmp/guard-$1.XXXXXX")
	chown postgres: "$d"
	echo "$d"
}

as_postgres() { runuser -u postgres -- "$@"; }
