#!/usr/bin/env bash
# test/bench/pgbench.sh -- throughput sanity check (pgbench TPS), configs interleaved.
#
# NOT part of CI. Run as root from anywhere (usually the repo root):
#
#     test/bench/pgbench.sh
#     ROUNDS=5 DURATION=20 CONFIGS="vanilla pgss guard" test/bench/pgbench.sh
#
# What it does
#   * initdb (as $OS_USER via runuser) + pgbench -i -s $SCALE (+ history rows
#     and an index on history(aid), see lib.sh), one copy of the data dir per
#     config in configs.tsv (configs whose preload .so is missing in
#     $(pg_config --pkglibdir) are skipped with a message).
#   * ROUNDS rounds; in each round every config in turn (A B C A B C ...):
#     start the server (unix socket in a private temp dir, port $PORT) with the
#     config's shared_preload_libraries/GUCs, WARMUP s of the join script
#     (discarded), then each workload for DURATION s, then stop the server.
#     In round 1 the config's sanity check (configs.tsv column 5) must return t.
#   * Workloads (clients $CLIENTS, threads $THREADS):
#       select-prepared  pgbench -S -M prepared
#       select-simple    pgbench -S -M simple
#       join4-simple     pgbench -f test/bench/join4.sql -M simple
#   * Prints a markdown table (median TPS per config, delta vs the first config,
#     min/max) to stdout; raw data (tps.csv, pgbench output, server logs) go to
#     test/bench/results/pgbench-<timestamp>/.
#   This is a sanity check: on a shared 2-core machine TPS noise is about
#   +-8 %, so only large regressions are meaningful; use callgrind.sh for
#   precise overhead figures.
#
# Environment
#   ROUNDS=5  DURATION=20 (s per workload per round)  WARMUP=5 (s)
#   CLIENTS=2  THREADS=2  SCALE=1
#   WORKLOADS="select-prepared select-simple join4-simple"
#   CONFIGS=""  filter on config names (default: all in configs.tsv)
#   ROTATE=0    1 = rotate the config order each round (ABC BCA CAB ...) to
#               break position effects; 0 = plain ABC ABC ...
#   KEEP_WORK=0 keep the temporary work dir;  PG_CONFIG, OS_USER, PORT, CONFIG_FILE -- see lib.sh
#   Runtime is roughly ROUNDS * #configs * (WARMUP + #workloads * DURATION + ~3 s).

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-5}
CLIENTS=${CLIENTS:-2}
THREADS=${THREADS:-2}
WORKLOADS=${WORKLOADS:-select-prepared select-simple join4-simple}
ROTATE=${ROTATE:-0}

T0=$(date +%s)
load_configs
RES=$(new_results_dir pgbench)
mkdir -p "$RES/logs"
log "results: $RES"

wl_args() {  # workload -> global array WL_ARGS
    case $1 in
        select-prepared) WL_ARGS=(-S -M prepared) ;;
        select-simple)   WL_ARGS=(-S -M simple) ;;
        join4-simple)    WL_ARGS=(-f "$BENCH_DIR/join4.sql" -D "naccounts=$NACCOUNTS" -M simple) ;;
        *) die "unknown workload $1" ;;
    esac
}
for wl in $WORKLOADS; do wl_args "$wl"; done

PGBENCH=(env PGDATABASE="$DBNAME" "$PGBIN/pgbench" -n -h "$SOCKDIR" -p "$PORT" -U postgres -c "$CLIENTS" -j "$THREADS")

TPL=$WORK/template
make_template "$TPL"
for cfg in "${ACTIVE_CFGS[@]}"; do
    clone_for_config "$TPL" "$WORK/data.$cfg" "$cfg"
done

echo "round,config,workload,tps,loadavg1_after" >"$RES/tps.csv"
est=$((ROUNDS * ${#ACTIVE_CFGS[@]} * (WARMUP + $(wc -w <<<"$WORKLOADS") * DURATION + 3)))
log "rounds=$ROUNDS duration=${DURATION}s warmup=${WARMUP}s clients=$CLIENTS threads=$THREADS; estimated ${est}s"

for ((r = 1; r <= ROUNDS; r++)); do
    order=("${ACTIVE_CFGS[@]}")
    if [ "$ROTATE" = 1 ]; then  # ABC, BCA, CAB, ...
        k=$(((r - 1) % ${#order[@]}))
        order=("${order[@]:k}" "${order[@]:0:k}")
    fi
    for cfg in "${order[@]}"; do
        d=$WORK/data.$cfg
        cfg_args "$cfg"
        start_server "$d" "${CFG_ARGS[@]}"
        preload=$(psql_run -Atc "SHOW shared_preload_libraries")
        [ "$preload" = "${CFG_PRELOAD[$cfg]}" ] || die "$cfg: shared_preload_libraries is '$preload'"
        if [ "$WARMUP" -gt 0 ]; then
            wl_args join4-simple
            "${PGBENCH[@]}" "${WL_ARGS[@]}" -T "$WARMUP" >"$RES/logs/r$r.$cfg.warmup.log" 2>&1 \
                || { cat "$RES/logs/r$r.$cfg.warmup.log" >&2; die "warm-up failed ($cfg)"; }
        fi
        for wl in $WORKLOADS; do
            wl_args "$wl"
            lg=$RES/logs/r$r.$cfg.$wl.log
            "${PGBENCH[@]}" "${WL_ARGS[@]}" -T "$DURATION" >"$lg" 2>&1 \
                || { cat "$lg" >&2; die "pgbench failed ($cfg $wl)"; }
            tps=$(awk '/^tps = .*without initial connection time/ { print $3 }' "$lg")
            [ -n "$tps" ] || { cat "$lg" >&2; die "no tps in $lg"; }
            load1=$(cut -d' ' -f1 /proc/loadavg)
            echo "$r,$cfg,$wl,$tps,$load1" >>"$RES/tps.csv"
            log "round $r/$ROUNDS $cfg $wl: $tps tps"
        done
        if [ "$r" = 1 ] && [ -n "${CFG_CHECK[$cfg]}" ]; then
            [ "$(psql_run -Atc "${CFG_CHECK[$cfg]}")" = t ] || die "sanity check failed for $cfg: ${CFG_CHECK[$cfg]}"
        fi
        stop_server "$d"
        cp "$d/server.log" "$RES/logs/server.$cfg.log"
    done
done

# ---------------------------------------------------------------- report
stats() {  # cfg wl -> "median min max n"
    awk -F, -v c="$1" -v w="$2" '$2 == c && $3 == w { print $4 }' "$RES/tps.csv" | sort -g |
        awk '{ v[NR] = $1 } END {
            if (NR == 0) { print "NA NA NA 0"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%.1f %.1f %.1f %d\n", m, v[1], v[NR], NR }'
}

T1=$(date +%s)
{
    echo "### pgbench TPS (median of $ROUNDS interleaved rounds, ${DURATION}s each, -c $CLIENTS -j $THREADS, scale $SCALE)"
    echo
    echo "| workload | config | median TPS | delta vs $BASELINE | min | max |"
    echo "|---|---|---:|---:|---:|---:|"
    echo "workload,config,median,min,max,n" >"$RES/medians.csv"
    for wl in $WORKLOADS; do
        read -r bmed _ <<<"$(stats "$BASELINE" "$wl")"
        for cfg in "${ACTIVE_CFGS[@]}"; do
            read -r med mn mx n <<<"$(stats "$cfg" "$wl")"
            echo "$wl,$cfg,$med,$mn,$mx,$n" >>"$RES/medians.csv"
            if [ "$cfg" = "$BASELINE" ]; then dl="-"
            else dl=$(awk -v v="$med" -v b="$bmed" 'BEGIN { printf "%+.1f%%", 100 * (v - b) / b }'); fi
            printf '| %s | %s | %.0f | %s | %.0f | %.0f |\n' "$wl" "$cfg" "$med" "$dl" "$mn" "$mx"
        done
    done
    for n in "${SKIPPED_NOTES[@]:-}"; do [ -n "$n" ] && echo && echo "Note: $n"; done
    echo
    echo "Noise on this kind of machine is about +-8 %; treat small deltas as noise."
    awk -F, 'NR > 1 { if (min == "" || $5 < min) min = $5; if ($5 > max) max = $5 }
        END { printf "1-min load average after each run: %s .. %s (compare runs: high values = competing load)\n", min, max }' "$RES/tps.csv"
    echo "Runtime: $((T1 - T0)) s. Raw data: ${RES#"$PWD"/}"
} | tee "$RES/summary.md"
