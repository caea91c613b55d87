#!/usr/bin/env bash
# test/bench/callgrind.sh -- deterministic per-statement overhead (instructions).
#
# NOT part of CI. Run as root from anywhere (usually the repo root):
#
#     test/bench/callgrind.sh
#     N=2000 EXTRA=1000 JOBS=2 CONFIGS="vanilla pgss guard" test/bench/callgrind.sh
#
# What it does
#   * initdb (as $OS_USER via runuser) + pgbench -i -s $SCALE, plus one
#     pgbench_history row per account and an index on history(aid).
#   * For every config in configs.tsv whose preload libraries exist in
#     $(pg_config --pkglibdir) (others are skipped with a message) and every
#     workload, runs `postgres --single` under `valgrind --tool=callgrind
#     --collect-atstart=yes` twice, feeding a generated script of N and
#     N+EXTRA statements on stdin (one statement per line), each run on a
#     fresh copy of the data dir.  Ir/statement = (Ir(N+EXTRA) - Ir(N)) / EXTRA,
#     so start-up, cache warm-up and shutdown cancel out.
#   * Before that, a preflight run per config (no valgrind) checks that the
#     libraries load, the statements run and the config's sanity check
#     (configs.tsv column 5, e.g. pg_stat_statements has recorded the query)
#     returns true -- i.e. the hooks really observe in single-user mode.
#   * Workloads:
#       point    SELECT abalance FROM pgbench_accounts WHERE aid = <const>
#                (simple protocol: every statement parsed + planned; constants vary)
#       prepared PREPARE once, then EXECUTE p(<const>) (cached generic plan path)
#       join4    accounts x branches x tellers x history WHERE a.aid = <const> LIMIT 10
#   * Prints a markdown table to stdout; raw data (results.csv, callgrind.out.*
#     gzipped, logs, generated SQL) go to test/bench/results/callgrind-<timestamp>/.
#
# Environment
#   N=2000          statements in the short run
#   EXTRA=1000      additional statements in the long run
#   WORKLOADS="point prepared join4"
#   CONFIGS=""      filter on config names (default: all in configs.tsv)
#   JOBS=$(nproc)   parallel valgrind runs (counts are deterministic, so safe)
#   SCALE=1         pgbench scale
#   KEEP_CALLGRIND=1  keep callgrind.out files (gzipped) in the results dir
#   KEEP_WORK=0     keep the temporary work dir (data dirs) for inspection
#   PG_CONFIG, OS_USER, PORT, CONFIG_FILE -- see lib.sh
#
# Notes
#   * Ir counts user-space instructions only: syscalls (and clock_gettime,
#     which valgrind turns into real syscalls) are not counted.
#   * Under callgrind a run is ~50x slower; defaults take a few minutes.
#   * To see where a config's extra instructions go, e.g.:
#       callgrind_annotate <(zcat results/.../callgrind.out.guard.point.3000.gz) | head -40

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${N:-2000}
EXTRA=${EXTRA:-1000}
WORKLOADS=${WORKLOADS:-point prepared join4}
JOBS=${JOBS:-$(nproc)}
KEEP_CALLGRIND=${KEEP_CALLGRIND:-1}
command -v valgrind >/dev/null || die "valgrind not installed"

T0=$(date +%s)
load_configs
RES=$(new_results_dir callgrind)
log "results: $RES"

# ---------------------------------------------------------------- SQL scripts
# gen_sql WORKLOAD COUNT > file : deterministic; the first COUNT lines of a
# longer script equal the shorter script.
gen_sql() {
    local wl=$1 n=$2
    awk -v wl="$wl" -v n="$n" -v na="$NACCOUNTS" 'BEGIN {
        if (wl == "prepared")
            print "PREPARE p(int) AS SELECT abalance FROM pgbench_accounts WHERE aid = $1"
        for (i = 1; i <= n; i++) {
            aid = (i * 7919) % na + 1
            if (wl == "point")
                printf "SELECT abalance FROM pgbench_accounts WHERE aid = %d\n", aid
            else if (wl == "prepared")
                printf "EXECUTE p(%d)\n", aid
            else if (wl == "join4")
                printf "SELECT a.abalance, b.bbalance, t.tbalance, h.delta FROM pgbench_accounts a JOIN pgbench_branches b ON b.bid = a.bid JOIN pgbench_tellers t ON t.bid = b.bid JOIN pgbench_history h ON h.aid = a.aid WHERE a.aid = %d LIMIT 10\n", aid
            else { print "unknown workload " wl > "/dev/stderr"; exit 1 }
        }
    }'
}

N2=$((N + EXTRA))
mkdir -p "$RES/sql" "$RES/logs"
for wl in $WORKLOADS; do
    for n in "$N" "$N2"; do gen_sql "$wl" "$n" >"$RES/sql/$wl.$n.sql"; done
done

TPL=$WORK/template
make_template "$TPL"
for cfg in "${ACTIVE_CFGS[@]}"; do
    clone_for_config "$TPL" "$WORK/tpl.$cfg" "$cfg"
done

# ---------------------------------------------------------------- preflight
# Quick non-valgrind run per config: library loads, GUCs accepted, and the
# workload statements run without error.
for cfg in "${ACTIVE_CFGS[@]}"; do
    cfg_args "$cfg"
    d=$WORK/pre.$cfg
    cp -a "$WORK/tpl.$cfg" "$d"
    {
        echo "SELECT current_setting('shared_preload_libraries') AS preload"
        for kv in ${CFG_GUCS[$cfg]}; do echo "SELECT current_setting('${kv%%=*}') AS \"${kv%%=*}\""; done
        for wl in $WORKLOADS; do gen_sql "$wl" 3; done
        if [ -n "${CFG_CHECK[$cfg]}" ]; then echo "${CFG_CHECK[$cfg]}"; fi
    } | as_pg "$PGBIN/postgres" --single -D "$d" "${CFG_ARGS[@]}" "$DBNAME" >"$RES/logs/preflight.$cfg.log" 2>&1 \
        || { cat "$RES/logs/preflight.$cfg.log" >&2; die "preflight failed for $cfg"; }
    if grep -qE '^(ERROR|FATAL|PANIC):' "$RES/logs/preflight.$cfg.log"; then
        cat "$RES/logs/preflight.$cfg.log" >&2; die "preflight failed for $cfg"
    fi
    if [ -n "${CFG_CHECK[$cfg]}" ] && ! grep -q 'ok = "t"' "$RES/logs/preflight.$cfg.log"; then
        cat "$RES/logs/preflight.$cfg.log" >&2; die "sanity check failed for $cfg: ${CFG_CHECK[$cfg]}"
    fi
    rm -rf "$d"
done
log "preflight ok (libraries load, statements run, sanity checks pass)"

# ---------------------------------------------------------------- callgrind runs
run_one() {  # cfg wl n
    local cfg=$1 wl=$2 n=$3 d out lg
    d=$WORK/run.$cfg.$wl.$n
    out=$WORK/callgrind.out.$cfg.$wl.$n
    lg=$RES/logs/$cfg.$wl.$n.log
    cp -a "$WORK/tpl.$cfg" "$d"
    cfg_args "$cfg"
    as_pg valgrind --tool=callgrind --collect-atstart=yes --dump-instr=no \
        --callgrind-out-file="$out" \
        "$PGBIN/postgres" --single -D "$d" "${CFG_ARGS[@]}" "$DBNAME" \
        <"$RES/sql/$wl.$n.sql" >"$lg" 2>&1 || echo "exit status $?" >>"$lg"
    rm -rf "$d"
    local ir
    ir=$(awk '/^totals:/ { print $2 }' "$out" 2>/dev/null || true)
    if [ -z "$ir" ] || grep -qE '^(ERROR|FATAL|PANIC):|^exit status' "$lg"; then
        echo "$cfg,$wl,$n,FAILED" >"$WORK/ir.$cfg.$wl.$n"
        log "FAILED: $cfg $wl $n (see $lg)"
    else
        echo "$cfg,$wl,$n,$ir" >"$WORK/ir.$cfg.$wl.$n"
        log "done: $cfg $wl N=$n Ir=$ir"
    fi
    if [ "$KEEP_CALLGRIND" = 1 ] && [ -f "$out" ]; then
        gzip -c "$out" >"$RES/callgrind.out.$cfg.$wl.$n.gz"
    fi
    rm -f "$out"
}

log "callgrind runs: ${#ACTIVE_CFGS[@]} configs x $(wc -w <<<"$WORKLOADS") workloads x 2 (N=$N, N=$N2), $JOBS parallel"
for wl in $WORKLOADS; do
    for cfg in "${ACTIVE_CFGS[@]}"; do
        for n in "$N2" "$N"; do
            while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
            run_one "$cfg" "$wl" "$n" &
            BG_PIDS+=($!)
        done
    done
done
wait
BG_PIDS=()

# ---------------------------------------------------------------- report
echo "config,workload,n,ir" >"$RES/runs.csv"
cat "$WORK"/ir.* | sort >>"$RES/runs.csv"
echo "config,workload,ir_per_stmt,startup_ir" >"$RES/results.csv"

declare -A PER
for wl in $WORKLOADS; do
    for cfg in "${ACTIVE_CFGS[@]}"; do
        a=$(cut -d, -f4 "$WORK/ir.$cfg.$wl.$N")
        b=$(cut -d, -f4 "$WORK/ir.$cfg.$wl.$N2")
        if [ "$a" = FAILED ] || [ "$b" = FAILED ]; then
            PER[$cfg.$wl]=FAILED
        else
            PER[$cfg.$wl]=$(awk -v a="$a" -v b="$b" -v e="$EXTRA" 'BEGIN { printf "%.1f", (b - a) / e }')
            awk -v a="$a" -v p="${PER[$cfg.$wl]}" -v n="$N" -v c="$cfg" -v w="$wl" \
                'BEGIN { printf "%s,%s,%s,%.0f\n", c, w, p, a - n * p }' >>"$RES/results.csv"
        fi
    done
done

T1=$(date +%s)
{
    echo "### Instructions per statement (callgrind Ir, (Ir(N=$N2) - Ir(N=$N)) / $EXTRA)"
    echo
    echo "PostgreSQL $("$PG_CONFIG" --version | awk '{print $2}'), pgbench scale $SCALE, postgres --single, valgrind $(valgrind --version | sed 's/valgrind-//')"
    echo
    echo "| workload | config | Ir/stmt | delta vs $BASELINE |"
    echo "|---|---|---:|---:|"
    for wl in $WORKLOADS; do
        for cfg in "${ACTIVE_CFGS[@]}"; do
            p=${PER[$cfg.$wl]} base=${PER[$BASELINE.$wl]}
            if [ "$p" = FAILED ] || [ "$base" = FAILED ]; then d="n/a"
            elif [ "$cfg" = "$BASELINE" ]; then d="-"
            else d=$(fmt_delta "$p" "$base"); fi
            printf '| %s | %s | %s | %s |\n' "$wl" "$cfg" "$(awk -v p="$p" 'BEGIN{ if (p == "FAILED") print p; else printf "%.0f", p }')" "$d"
        done
    done
    for n in "${SKIPPED_NOTES[@]:-}"; do [ -n "$n" ] && echo && echo "Note: $n"; done
    echo
    echo "Runtime: $((T1 - T0)) s. Raw data: ${RES#"$PWD"/}"
} | tee "$RES/summary.md"
