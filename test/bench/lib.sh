# shellcheck shell=bash
# Common helpers for test/bench/*.sh -- sourced, not executed.
# Not part of CI; see callgrind.sh / pgbench.sh for usage.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}
PGBIN=${PGBIN:-$("$PG_CONFIG" --bindir)}
PKGLIBDIR=$("$PG_CONFIG" --pkglibdir)
SHAREDIR=$("$PG_CONFIG" --sharedir)
OS_USER=${OS_USER:-postgres}          # OS user that owns clusters (initdb refuses root)
SCALE=${SCALE:-1}                     # pgbench -i scale
NACCOUNTS=$((SCALE * 100000))
PORT=${PORT:-55439}                   # private port; socket lives in a private dir
CONFIG_FILE=${CONFIG_FILE:-$BENCH_DIR/configs.tsv}
CONFIGS=${CONFIGS:-}                  # optional filter, e.g. CONFIGS="vanilla pgss"
KEEP_WORK=${KEEP_WORK:-0}             # 1 = keep the temporary work dir (data dirs, logs)
DBNAME=postgres

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

as_pg() { runuser -u "$OS_USER" -- "$@"; }

[ "$(id -u)" = 0 ] || die "run as root (the scripts use runuser -u $OS_USER themselves)"
[ -x "$PGBIN/postgres" ] || die "no postgres binary in $PGBIN"

# ---------------------------------------------------------------- work dir
WORK=$(mktemp -d "${TMPDIR:-/tmp}/guard-bench.XXXXXX")
chown "$OS_USER": "$WORK"
chmod 700 "$WORK"
SOCKDIR=$WORK/sock
mkdir -p "$SOCKDIR" && chown "$OS_USER": "$SOCKDIR"

STARTED_DATADIRS=()   # data dirs with a server we started
BG_PIDS=()            # background jobs we started

kill_tree() {  # pid: SIGTERM a process we started and its descendants
    local c
    for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$c"; done
    kill "$1" 2>/dev/null || true
}

cleanup() {
    local rc=$? d p
    trap - EXIT INT TERM
    for p in "${BG_PIDS[@]:-}"; do
        [ -n "$p" ] && kill_tree "$p"
    done
    for d in "${STARTED_DATADIRS[@]:-}"; do
        if [ -n "$d" ] && [ -f "$d/postmaster.pid" ]; then
            as_pg "$PGBIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1 || true
        fi
    done
    wait 2>/dev/null || true
    if [ "$KEEP_WORK" = 1 ]; then
        log "work dir kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- configs
# Fills: ALL_CFGS (all names), ACTIVE_CFGS (usable names), CFG_PRELOAD[],
# CFG_GUCS[], CFG_EXTS[], CFG_CHECK[], SKIPPED_NOTES (human-readable).
declare -A CFG_PRELOAD CFG_GUCS CFG_EXTS CFG_CHECK CFG_SETUP
ALL_CFGS=() ACTIVE_CFGS=() SKIPPED_NOTES=()

trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; s=${s%"${s##*[![:space:]]}"}; printf '%s' "$s"; }

load_configs() {
    local line name pre gucs exts check setup lib ok
    while IFS= read -r line || [ -n "$line" ]; do
        [[ $line =~ ^[[:space:]]*# ]] && continue
        line=$(trim "$line")
        [ -z "$line" ] && continue
        IFS='|' read -r name pre gucs exts check setup <<<"$line"
        name=$(trim "$name"); pre=$(trim "${pre:-}"); gucs=$(trim "${gucs:-}"); exts=$(trim "${exts:-}")
        check=$(trim "${check:-}")
        ALL_CFGS+=("$name")
        CFG_PRELOAD[$name]=$pre; CFG_GUCS[$name]=$gucs; CFG_EXTS[$name]=$exts; CFG_CHECK[$name]=$check; CFG_SETUP[$name]=$(trim "${setup:-}")
        if [ -n "$CONFIGS" ] && ! [[ " $CONFIGS " == *" $name "* ]]; then
            continue
        fi
        ok=1
        for lib in ${pre//,/ }; do
            if [ ! -f "$PKGLIBDIR/$lib.so" ]; then
                SKIPPED_NOTES+=("config '$name' skipped: $PKGLIBDIR/$lib.so not found (build+install it with 'make install')")
                ok=0
            fi
        done
        [ $ok = 1 ] && ACTIVE_CFGS+=("$name")
    done <"$CONFIG_FILE"
    local n
    for n in "${SKIPPED_NOTES[@]:-}"; do [ -n "$n" ] && log "$n"; done
    [ ${#ACTIVE_CFGS[@]} -gt 0 ] || die "no usable configuration"
    BASELINE=${ACTIVE_CFGS[0]}
    log "configs: ${ACTIVE_CFGS[*]} (baseline: $BASELINE)"
}

# cfg_args NAME -> global array CFG_ARGS of "-c name=value" server options
cfg_args() {
    local name=$1 kv
    CFG_ARGS=()
    [ -n "${CFG_PRELOAD[$name]}" ] && CFG_ARGS+=(-c "shared_preload_libraries=${CFG_PRELOAD[$name]}")
    for kv in ${CFG_GUCS[$name]}; do CFG_ARGS+=(-c "$kv"); done
    return 0
}

# ---------------------------------------------------------------- clusters
start_server() {  # datadir [server -c args...]
    local d=$1; shift
    STARTED_DATADIRS+=("$d")
    as_pg "$PGBIN/pg_ctl" -D "$d" -l "$d/server.log" -w -t 120 \
        -o "-p $PORT -c listen_addresses='' -c unix_socket_directories=$SOCKDIR $*" start >/dev/null \
        || { tail -20 "$d/server.log" >&2; die "server start failed ($d)"; }
}

stop_server() {
    as_pg "$PGBIN/pg_ctl" -D "$1" -m fast -w -t 120 stop >/dev/null
}

psql_run() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKDIR" -p "$PORT" -U postgres -d "$DBNAME" "$@"; }

# make_template DIR: initdb + pgbench -i + history rows, vacuumed and analyzed.
#   pgbench_history gets one row per account (aid = 1..naccounts) and an index
#   on aid, so the 4-way join returns 10 rows (10 tellers x 1 history row).
make_template() {
    local d=$1
    log "initdb + pgbench -i -s $SCALE in $d"
    as_pg "$PGBIN/initdb" -D "$d" -A trust -E UTF8 --locale=C --no-sync >"$WORK/initdb.log" 2>&1 \
        || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
    cat >>"$d/postgresql.conf" <<EOF

# --- guard bench ---
listen_addresses = ''
jit = off
EOF
    start_server "$d"
    "$PGBIN/pgbench" -i -q -s "$SCALE" -h "$SOCKDIR" -p "$PORT" -U postgres "$DBNAME" >"$WORK/pgbench-init.log" 2>&1 \
        || { cat "$WORK/pgbench-init.log" >&2; die "pgbench -i failed"; }
    psql_run <<EOF
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime)
  SELECT (aid - 1) % ($SCALE * 10) + 1, (aid - 1) % $SCALE + 1, aid, aid % 1000, now()
  FROM generate_series(1, $NACCOUNTS) AS aid;
CREATE INDEX pgbench_history_aid ON pgbench_history (aid);
VACUUM (FREEZE, ANALYZE);
CHECKPOINT;
EOF
    stop_server "$d"
}

# clone_for_config TEMPLATE DEST CFG: copy the template and CREATE EXTENSION
# (via single-user mode with the config's preload) for the config's extensions.
clone_for_config() {
    local tpl=$1 d=$2 cfg=$3 e sql=""
    cp -a "$tpl" "$d"
    for e in ${CFG_EXTS[$cfg]}; do
        if [ -f "$SHAREDIR/extension/$e.control" ]; then
            sql+="CREATE EXTENSION IF NOT EXISTS $e;"$'\n'
        else
            log "config '$cfg': extension $e not installed ($SHAREDIR/extension/$e.control), not created"
        fi
    done
    # column 6: setup SQL run once after the extensions (one line, single-user mode)
    [ -n "${CFG_SETUP[$cfg]:-}" ] && sql+="${CFG_SETUP[$cfg]}"$'\n'
    if [ -n "$sql" ]; then
        cfg_args "$cfg"
        printf '%sCHECKPOINT;\n' "$sql" | as_pg "$PGBIN/postgres" --single -D "$d" "${CFG_ARGS[@]}" "$DBNAME" \
            >"$d/create-ext.log" 2>&1 || { cat "$d/create-ext.log" >&2; die "CREATE EXTENSION failed for $cfg"; }
        if grep -qE '^(ERROR|FATAL|PANIC):' "$d/create-ext.log"; then
            cat "$d/create-ext.log" >&2; die "CREATE EXTENSION failed for $cfg"
        fi
    fi
}

# results dir (not committed: results/.gitignore ignores everything)
new_results_dir() {  # prefix
    local r
    r="$BENCH_DIR/results/$1-$(date +%Y%m%d-%H%M%S)"
    mkdir -p "$r"
    printf '%s' "$r"
}

fmt_delta() {  # value base -> "+123 (+1.2%)"
    awk -v v="$1" -v b="$2" 'BEGIN { d = v - b; printf "%+.0f (%+.2f%%)", d, (b ? 100 * d / b : 0) }'
}
