#!/usr/bin/env bash
# Run PostgreSQL's own core regression suite (src/test/regress,
# parallel_schedule) twice against temporary instances -- once vanilla and
# once with the guard library preloaded -- and check that guard changes
# nothing: same failing tests with the same diffs, no guard WARNING/ERROR in
# the server log that vanilla lacks, and no crash/PANIC/assertion failure.
#
# Usage (as root, from anywhere; `make pgregress` calls this):
#   test/pgregress/run.sh
#
# Environment knobs (all optional):
#   GUARD_PRELOAD        shared_preload_libraries for the 2nd run (default: guard)
#                        e.g. GUARD_PRELOAD=pg_stat_statements to test the harness
#   GUARD_CONF           extra postgresql.conf lines for the 2nd run
#                        (default: "guard.mode = observe" and
#                        "guard.explain_verdict = off"; newline-separated)
#   GUARD_LOG_PATTERN    ERE (case-insensitive) marking log lines "from guard"
#                        (default: the preload library names joined with |)
#   PGREGRESS_COMMON_CONF  conf lines for BOTH runs (default: compute_query_id = regress,
#                        so a module that enables query ids does not add
#                        "Query Identifier" lines to EXPLAIN VERBOSE output)
#   PG_CONFIG            pg_config to use (default: pg_config)
#   PGREGRESS_WORKDIR    scratch dir, outside the git tree (default: /var/tmp/pgcore-regress)
#   PGSRC_CACHE          where `apt-get source` unpacks to (default: /var/cache/guard-pgsrc)
#   GUARD_PGSRC          use this already unpacked PostgreSQL source tree instead
#   PGREGRESS_SCHEDULE   schedule file name in src/test/regress (default: parallel_schedule)
#   PGREGRESS_MAX_CONN   pg_regress --max-connections (default: 20)
#   PGREGRESS_PORT       base port; runs use PORT and PORT+1 (default: 54391)
#   PGREGRESS_TIMEOUT    seconds allowed per pg_regress run (default: 2400)
#   PGREGRESS_KEEP_INSTANCE=1  keep each run's temp data directory
#   PGREGRESS_SHOW_DIFFS how many differing tests to show diffs for (default: 5)
#   PGREGRESS_RUNS       "vanilla guard" (default) -- e.g. "vanilla vanilla2" to
#                        measure flakiness (any name other than vanilla* preloads)
set -euo pipefail

GUARD_PRELOAD=${GUARD_PRELOAD:-guard}
# guard.explain_verdict = off: the "Guard" line EXPLAIN adds to flagged plans
# (tenk1 is large enough to be flagged) is guard's intended output, not a change
# of PostgreSQL's behaviour; everything else stays on.
GUARD_CONF=${GUARD_CONF-$'guard.mode = observe\nguard.explain_verdict = off'}
GUARD_LOG_PATTERN=${GUARD_LOG_PATTERN:-$(echo "$GUARD_PRELOAD" | tr -d ' ' | tr ',' '|')}
PGREGRESS_COMMON_CONF=${PGREGRESS_COMMON_CONF-compute_query_id = regress}
PG_CONFIG=${PG_CONFIG:-pg_config}
WORK=${PGREGRESS_WORKDIR:-/var/tmp/pgcore-regress}
CACHE=${PGSRC_CACHE:-/var/cache/guard-pgsrc}
SCHEDULE=${PGREGRESS_SCHEDULE:-parallel_schedule}
MAX_CONN=${PGREGRESS_MAX_CONN:-20}
PORT=${PGREGRESS_PORT:-54391}
TIMEOUT=${PGREGRESS_TIMEOUT:-2400}
RUNS=${PGREGRESS_RUNS:-vanilla guard}
PGUSER_OS=postgres

# escape a literal string for use inside an ERE (sed -E / awk)
ere_quote() { printf '%s' "$1" | sed -E 's/[][\.^$*+?(){}|/]/\\&/g'; }
log() { printf '[pgregress] %s\n' "$*" >&2; }
die() { printf '[pgregress] ERROR: %s\n' "$*" >&2; exit 2; }

is_root() { [ "$(id -u)" -eq 0 ]; }
# run a command as the unprivileged OS user that owns the temp clusters
as_pg() {
    if is_root; then runuser -u "$PGUSER_OS" -- "$@"; else "$@"; fi
}

apt_updated=0
apt_update_once() {
    [ $apt_updated -eq 1 ] && return 0
    is_root || return 1
    log "apt-get update"
    apt-get update -qq >&2 || return 1
    apt_updated=1
}

# ---------------------------------------------------------------- prereqs
ensure_prereqs() {
    local missing=()
    command -v "$PG_CONFIG" >/dev/null 2>&1 || missing+=(postgresql-server-dev-15)
    command -v make >/dev/null 2>&1 || missing+=(make)
    command -v gcc >/dev/null 2>&1 || missing+=(gcc)
    if command -v "$PG_CONFIG" >/dev/null 2>&1; then
        [ -f "$("$PG_CONFIG" --pgxs)" ] || missing+=(postgresql-server-dev-15)
        [ -x "$("$PG_CONFIG" --bindir)/postgres" ] || missing+=(postgresql-15)
    fi
    if [ -z "${GUARD_PGSRC:-}" ]; then
        command -v dpkg-source >/dev/null 2>&1 || missing+=(dpkg-dev)
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        is_root || die "missing packages: ${missing[*]} (run as root to install)"
        apt_update_once || die "apt-get update failed"
        log "installing: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 \
            || die "apt-get install ${missing[*]} failed"
    fi
    id "$PGUSER_OS" >/dev/null 2>&1 || die "OS user $PGUSER_OS does not exist"
    if ! is_root && [ "$(id -un)" != "$PGUSER_OS" ]; then
        log "not root: running pg_regress as $(id -un)"
    fi
}

# ------------------------------------------------------------ deb-src
enable_deb_src() {
    local f changed=0
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        # deb822: "Types: deb" -> "Types: deb deb-src" (idempotent)
        if grep -Eq '^Types:' "$f" && grep -E '^Types:' "$f" | grep -vq 'deb-src'; then
            sed -i -E '/^Types:/{/deb-src/!s/^Types:[[:space:]]*deb([[:space:]]|$)/Types: deb deb-src\1/}' "$f"
            changed=1
        fi
    done
    # one-line format: add a deb-src twin for every deb line that lacks one
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        local line src
        while IFS= read -r line; do
            src="deb-src${line#deb}"
            grep -Fxq "$src" "$f" || { echo "$src" >>"$f"; changed=1; }
        done < <(grep -E '^deb[[:space:]]' "$f" || true)
    done
    [ $changed -eq 1 ] && { log "enabled deb-src entries"; apt_updated=0; }
    return 0
}

# find an unpacked tree for VERSION in the cache, print its path
cached_tree() { # $1 = debian version, e.g. 15.18-0+deb12u1
    local up=${1%-*}; up=${up#*:}
    local d="$CACHE/$1/postgresql-15-$up"
    [ -f "$d/src/test/regress/parallel_schedule" ] && [ -f "$d/.guard-complete" ] && echo "$d"
    return 0
}

fetch_version() { # $1 = debian version; prints tree path on success
    local v=$1 dir="$CACHE/$1" up
    up=${v%-*}; up=${up#*:}
    rm -rf "$dir"; mkdir -p "$dir"
    chown _apt "$dir" 2>/dev/null || true   # lets apt download sandboxed
    log "apt-get source postgresql-15=$v"
    if (cd "$dir" && apt-get source -qq "postgresql-15=$v" >"$dir/apt-source.log" 2>&1); then
        if [ -f "$dir/postgresql-15-$up/src/test/regress/parallel_schedule" ]; then
            touch "$dir/postgresql-15-$up/.guard-complete"
            echo "$dir/postgresql-15-$up"; return 0
        fi
    fi
    log "  failed ($(grep -m1 -E 'E:|404' "$dir/apt-source.log" 2>/dev/null || echo 'see log'))"
    rm -rf "$dir"
    return 1
}

find_source() {
    if [ -n "${GUARD_PGSRC:-}" ]; then
        [ -f "$GUARD_PGSRC/src/test/regress/parallel_schedule" ] \
            || die "GUARD_PGSRC=$GUARD_PGSRC is not a PostgreSQL source tree"
        SRC_VERSION="(GUARD_PGSRC)"; SRC=$GUARD_PGSRC; return
    fi
    local inst t v
    inst=$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || true)
    mkdir -p "$CACHE"
    if [ -n "$inst" ]; then
        t=$(cached_tree "$inst")
        if [ -n "$t" ]; then SRC=$t; SRC_VERSION=$inst; return; fi
    fi
    # the installed version's source, unless it failed to download in the
    # last 24h (e.g. the security mirror drops superseded source tarballs)
    local miss="$CACHE/.unavailable-$inst"
    if [ -n "$inst" ] && is_root && [ -z "$(find "$miss" -mmin -1440 2>/dev/null)" ]; then
        enable_deb_src
        apt_update_once || log "apt-get update failed; trying anyway"
        if t=$(fetch_version "$inst"); then SRC=$t; SRC_VERSION=$inst; rm -f "$miss"; return; fi
        touch "$miss"
    fi
    # fall back: other versions already cached, then any other fetchable
    # version (newest first). Only the minor release differs; what matters
    # is the comparison with vs without guard.
    for t in $(ls -d "$CACHE"/*/postgresql-15-*/.guard-complete 2>/dev/null | sort -rV); do
        SRC=$(dirname "$t"); v=$(basename "$(dirname "$SRC")")
        log "source for $inst unavailable; using cached $v"
        SRC_VERSION=$v; return
    done
    is_root || die "no cached source in $CACHE and not root (cannot apt-get source)"
    enable_deb_src
    apt_update_once || log "apt-get update failed; trying anyway"
    local versions
    versions=$(apt-cache showsrc postgresql-15 2>/dev/null | sed -n 's/^Version: //p' \
               | sort -u | sort -rV)
    for v in $versions; do
        [ "$v" = "$inst" ] && continue
        if t=$(fetch_version "$v"); then SRC=$t; SRC_VERSION=$v; return; fi
    done
    die "could not obtain PostgreSQL 15 source via apt-get source (tried: ${inst:-} $versions)"
}

# -------------------------------------------------- regress.so etc.
build_libs() {
    local b="$WORK/build" lib="$WORK/lib" pkglib m
    pkglib=$("$PG_CONFIG" --pkglibdir)
    rm -rf "$b" "$lib"; mkdir -p "$b/regress" "$lib"
    cp "$SRC/src/test/regress/regress.c" "$b/regress/"
    cat >"$b/regress/Makefile" <<'EOF'
MODULES = regress
PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
EOF
    log "building regress.so (PGXS)"
    make -s -C "$b/regress" PG_CONFIG="$PG_CONFIG" with_llvm=no >"$b/regress/build.log" 2>&1 \
        || { cat "$b/regress/build.log" >&2; die "building regress.so failed"; }
    cp "$b/regress/regress.so" "$lib/"
    # autoinc/refint (contrib/spi): Debian ships them in pkglibdir; else build.
    local need=()
    for m in autoinc refint; do
        if [ -f "$pkglib/$m.so" ]; then ln -sf "$pkglib/$m.so" "$lib/$m.so"; else need+=("$m"); fi
    done
    if [ ${#need[@]} -gt 0 ]; then
        mkdir -p "$b/spi"
        for m in "${need[@]}"; do cp "$SRC/contrib/spi/$m.c" "$b/spi/"; done
        printf 'MODULES = %s\nPG_CONFIG ?= pg_config\nPGXS := $(shell $(PG_CONFIG) --pgxs)\ninclude $(PGXS)\n' \
            "${need[*]}" >"$b/spi/Makefile"
        log "building ${need[*]} (contrib/spi, PGXS)"
        make -s -C "$b/spi" PG_CONFIG="$PG_CONFIG" with_llvm=no >"$b/spi/build.log" 2>&1 \
            || { cat "$b/spi/build.log" >&2; die "building contrib/spi failed"; }
        for m in "${need[@]}"; do cp "$b/spi/$m.so" "$lib/"; done
    fi
}

# ------------------------------------------------------------ one run
declare -A DUR RC
stop_leftover() { # stop a postmaster left in one of our temp instances
    local d=$1/tmp_instance/data
    if [ -f "$d/postmaster.pid" ]; then
        log "stopping leftover temp instance in $d"
        as_pg "$("$PG_CONFIG" --bindir)/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1 || true
    fi
}
CHILD_PID=
cleanup() {
    local r
    if [ -n "$CHILD_PID" ] && kill -0 "$CHILD_PID" 2>/dev/null; then
        log "interrupted: stopping pg_regress (pid $CHILD_PID)"
        kill -TERM "$CHILD_PID" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$CHILD_PID" 2>/dev/null || break; sleep 1; done
    fi
    for r in $RUNS; do [ -d "$WORK/$r" ] && stop_leftover "$WORK/$r"; done
}

run_one() { # $1 = run name, $2 = port
    local name=$1 port=$2 out="$WORK/$1" t0 rc=0
    stop_leftover "$out"
    rm -rf "$out"; mkdir -p "$out/src"
    cp -a "$SRC/src/test/regress/." "$out/src/" 2>/dev/null || cp -r "$SRC/src/test/regress/." "$out/src/"
    {
        echo "# written by test/pgregress/run.sh ($name)"
        [ -n "$PGREGRESS_COMMON_CONF" ] && printf '%s\n' "$PGREGRESS_COMMON_CONF"
        if [[ $name != vanilla* ]]; then
            echo "shared_preload_libraries = '$GUARD_PRELOAD'"
            [ -n "$GUARD_CONF" ] && printf '%s\n' "$GUARD_CONF"
        fi
    } >"$out/extra.conf"
    is_root && chown -R "$PGUSER_OS:" "$out"
    chmod 755 "$WORK" "$WORK/lib"

    log "run '$name': $(grep -v '^#' "$out/extra.conf" | paste -sd';' -) (port $port)"
    t0=$(date +%s)
    set +e
    local -a pre=()
    if is_root; then pre=(runuser -u "$PGUSER_OS" --); fi
    "${pre[@]}" env -i PATH="/usr/local/bin:/usr/bin:/bin" HOME="$out" LANG=C LC_ALL=C \
        timeout -k 30 "$TIMEOUT" "$PGREGRESS" \
        --bindir="$BINDIR" \
        --temp-instance="$out/tmp_instance" \
        --temp-config="$out/extra.conf" \
        --inputdir="$out/src" --outputdir="$out" \
        --dlpath="$WORK/lib" \
        --schedule="$out/src/$SCHEDULE" \
        --max-connections="$MAX_CONN" \
        --port="$port" \
        --no-locale --encoding=UTF8 \
        >"$out/pg_regress.out" 2>&1 &
    CHILD_PID=$!          # waited on in the background so INT/TERM act at once
    wait "$CHILD_PID"; rc=$?
    CHILD_PID=
    set -e
    DUR[$name]=$(( $(date +%s) - t0 ))
    RC[$name]=$rc
    stop_leftover "$out"
    # pg_regress keeps the ~300 MB instance when any test failed; logs stay in $out/log
    [ "${PGREGRESS_KEEP_INSTANCE:-0}" = 1 ] || rm -rf "$out/tmp_instance"
    log "run '$name': pg_regress exit $rc after ${DUR[$name]}s ($(grep -E 'tests (passed|failed)' "$out/pg_regress.out" | tr -s ' ' | sed 's/^ //' | tail -1))"

    # statuses: "name status" for every test
    # up to 15: "test name ... ok"; from 16 (TAP): "ok 2 + name 105 ms", "not ok ..."
    {
        sed -nE 's/^(test[[:space:]]+|[[:space:]]+)([A-Za-z0-9_.-]+)[[:space:]]+\.\.\.[[:space:]]+(ok|FAILED|failed \(ignored\))?.*$/\2 \3/p' \
            "$out/pg_regress.out" | sed -E 's/ $/ FAILED/; s/failed \(ignored\)/ignored/'
        sed -nE 's/^(not )?ok[[:space:]]+[0-9]+[[:space:]]+[-+][[:space:]]+([A-Za-z0-9_.-]+)[[:space:]].*$/\2 \1/p' \
            "$out/pg_regress.out" | sed -E 's/ not $/ FAILED/; s/ $/ ok/'
    } >"$out/status.txt"
    awk '$2 != "ok"' "$out/status.txt" | sort >"$out/failed.txt"
    # per-test diffs, with path/timestamp headers removed
    mkdir -p "$out/diffs"
    if [ -f "$out/regression.diffs" ]; then
        OUT="$out" WORKD="$WORK" awk -v dir="$out/diffs" '
            BEGIN { out = ENVIRON["OUT"]; work = ENVIRON["WORKD"] }
            /^diff / { if (f != "") close(f); n = $NF; sub(/.*\//, "", n); sub(/\.out$/, "", n)
                       f = dir "/" n ".diff"; hdr = 2; next }
            hdr > 0 && /^(---|\+\+\+) / { hdr--; next }
            function lit(s, a, b,   i, r) {   # replace literal a by b
                r = ""; while ((i = index(s, a)) > 0) { r = r substr(s, 1, i - 1) b; s = substr(s, i + length(a)) }
                return r s }
            f != "" { hdr = 0; print lit(lit($0, out, "@RUNDIR@"), work, "@WORKDIR@") > f }' \
            "$out/regression.diffs"
    fi
    # server log: messages (prefix stripped), and crash signs
    local plog="$out/log/postmaster.log"
    [ -f "$plog" ] || : >"$plog"
    sed -E 's/^[0-9-]+ [0-9:.]+ [A-Z+0-9-]+ [^[]*\[[0-9]+\] //' "$plog" \
        | grep -E '^[^ ]* ?(WARNING|ERROR|FATAL|PANIC):' \
        | sed -E "s|$(ere_quote "$out")|@RUNDIR@|g; s|$(ere_quote "$WORK")|@WORKDIR@|g" \
        | sed -E 's/[0-9]+/N/g' | sort -u >"$out/log-msgs.txt" || true
    grep -E 'PANIC:|TRAP:|terminated by signal|terminated by exception|terminating any other active server processes|all server processes terminated|exited with exit code [2-9]|Segmentation fault|stuck spinlock|server closed the connection unexpectedly' \
        "$plog" "$out/pg_regress.out" "$out/regression.diffs" 2>/dev/null >"$out/crash.txt" || true
}

# --------------------------------------------------------------- main
main() {
    ensure_prereqs
    BINDIR=$("$PG_CONFIG" --bindir)
    PKGLIB=$("$PG_CONFIG" --pkglibdir)
    SERVER_VERSION=$("$BINDIR/postgres" -V | sed -E 's/^[^0-9]*([0-9][0-9.]*).*/\1/')
    PGREGRESS="$PKGLIB/pgxs/src/test/regress/pg_regress"
    [ -x "$PGREGRESS" ] || die "pg_regress not found at $PGREGRESS (install postgresql-server-dev-15)"
    local lib
    for lib in $(echo "$GUARD_PRELOAD" | tr ',' ' '); do
        [ -f "$PKGLIB/$lib.so" ] || die "preload library $PKGLIB/$lib.so not installed (run 'make install' first, or set GUARD_PRELOAD)"
    done
    case "$WORK" in /|"") die "bad PGREGRESS_WORKDIR";; esac
    mkdir -p "$WORK"
    exec 9>"$WORK/.lock"
    flock -n 9 || die "another run.sh is using $WORK"
    trap cleanup EXIT; trap 'exit 130' INT TERM

    find_source
    log "server $SERVER_VERSION, regression source $SRC_VERSION ($SRC)"
    build_libs

    local r port=$PORT
    for r in $RUNS; do run_one "$r" "$port"; port=$((port + 1)); done

    compare
}

compare() {
    set +e +o pipefail   # reporting only: diff/grep/head exit codes are not errors here
    local base rest r fail=0 ntests shown=0 show=${PGREGRESS_SHOW_DIFFS:-5}
    base=${RUNS%% *}; rest=${RUNS#"$base"}
    local B="$WORK/$base"
    ntests=$(wc -l <"$B/status.txt")
    echo
    echo "================ core regression summary ================"
    echo "source: $SRC_VERSION ($SRC)   server: $SERVER_VERSION"
    echo "schedule: $SCHEDULE   work dir: $WORK"
    for r in $RUNS; do
        printf '%-10s %4ss  pg_regress exit %s  tests %s  failed %s%s\n' "$r" "${DUR[$r]}" "${RC[$r]}" \
            "$(wc -l <"$WORK/$r/status.txt")" "$(wc -l <"$WORK/$r/failed.txt")" \
            "$( [ -s "$WORK/$r/failed.txt" ] && echo " ($(awk '{print $1}' "$WORK/$r/failed.txt" | paste -sd' ' -))")"
    done
    [ "$ntests" -gt 0 ] || { echo "FAIL: $base run produced no test results (see $B/pg_regress.out)"; fail=1; }
    if [ "${RC[$base]}" -ne 0 ] && [ "${RC[$base]}" -ne 1 ]; then
        echo "FAIL: $base pg_regress exited ${RC[$base]} (setup failure/timeout; see $B/pg_regress.out)"; fail=1
    fi
    if [ -s "$B/crash.txt" ]; then
        echo "FAIL: crash signs in the $base run itself (results unreliable):"; sed 's/^/    /' "$B/crash.txt" | head -20; fail=1
    fi

    local ndiff=0
    for r in $rest; do
        local R="$WORK/$r" t
        if [ "${RC[$r]}" -ne 0 ] && [ "${RC[$r]}" -ne 1 ]; then
            echo "FAIL: $r pg_regress exited ${RC[$r]} (setup failure/timeout; see $R/pg_regress.out)"; fail=1
        fi
        if ! cmp -s <(awk '{print $1}' "$B/status.txt" | sort) <(awk '{print $1}' "$R/status.txt" | sort); then
            echo "FAIL: $r ran a different set of tests than $base:"
            diff <(awk '{print $1}' "$B/status.txt" | sort) <(awk '{print $1}' "$R/status.txt" | sort) | grep '^[<>]' | sed 's/^/    /' | head -20
            fail=1
        fi
        # tests whose outcome or diff differs
        for t in $(cat "$B/failed.txt" "$R/failed.txt" | awk '{print $1}' | sort -u); do
            local bs rs
            bs=$(awk -v t="$t" '$1==t{print $2}' "$B/status.txt"); rs=$(awk -v t="$t" '$1==t{print $2}' "$R/status.txt")
            if [ "$bs" != "$rs" ]; then
                echo "DIFFERS: $t: $base=${bs:-missing} $r=${rs:-missing}"; ndiff=$((ndiff + 1))
                if [ $shown -lt "$show" ] && [ -f "$R/diffs/$t.diff" ] && [ "$rs" != ok ]; then
                    head -40 "$R/diffs/$t.diff" | sed 's/^/    /'; shown=$((shown + 1))
                fi
            elif ! cmp -s "$B/diffs/$t.diff" "$R/diffs/$t.diff"; then
                echo "DIFFERS: $t: fails in both, but with different diffs"; ndiff=$((ndiff + 1))
                if [ $shown -lt "$show" ]; then
                    diff "$B/diffs/$t.diff" "$R/diffs/$t.diff" | head -40 | sed 's/^/    /'; shown=$((shown + 1))
                fi
            fi
        done
        # server log: crashes, and guard-originated WARNING/ERROR lines vanilla lacks
        if [ -s "$R/crash.txt" ]; then
            echo "FAIL: crash/PANIC/assertion signs in the $r run:"; sed 's/^/    /' "$R/crash.txt" | head -20; fail=1
        fi
        comm -13 "$B/log-msgs.txt" "$R/log-msgs.txt" >"$R/log-extra.txt" || true
        grep -iE -- "$GUARD_LOG_PATTERN" "$R/log-extra.txt" >"$R/log-extra-guard.txt" || true
        if [ -s "$R/log-extra-guard.txt" ]; then
            echo "FAIL: $r server log has $(wc -l <"$R/log-extra-guard.txt") WARNING/ERROR/FATAL line(s) matching /$GUARD_LOG_PATTERN/ not in $base:"
            head -20 "$R/log-extra-guard.txt" | sed 's/^/    /'; fail=1
        fi
        grep -viE -- "$GUARD_LOG_PATTERN" "$R/log-extra.txt" >"$R/log-extra-other.txt"
        local nextra; nextra=$(wc -l <"$R/log-extra-other.txt")
        if [ "$nextra" -gt 0 ]; then
            echo "note: $r log has $nextra other WARNING/ERROR/FATAL message kind(s) not in $base (digits normalized; timing noise is possible):"
            head -10 "$R/log-extra-other.txt" | cut -c1-200 | sed 's/^/    /'
            [ "$nextra" -gt 10 ] && echo "    ... see $R/log-extra-other.txt"
        fi
    done
    if [ $ndiff -gt 0 ]; then
        fail=1
        echo "(details shown for at most $show tests; per-test diffs: $WORK/<run>/diffs/<test>.diff, full output: $WORK/<run>/results/)"
    fi
    # count each failed non-test check as one failure for the closing line
    local nfail=$ndiff
    [ $fail -eq 1 ] && [ $ndiff -eq 0 ] && nfail=1

    echo "========================================================="
    if [ $fail -eq 0 ]; then
        echo "core regression: $ntests tests, identical results with and without guard ($GUARD_PRELOAD)"
    else
        echo "core regression: $ntests tests, results DIFFER with guard ($GUARD_PRELOAD): $ndiff test(s) differ; see above and $WORK"
    fi
    echo "pgregress: $((ntests - ndiff)) passed, $nfail failed"
    return $fail
}

main "$@"
