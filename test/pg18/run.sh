#!/usr/bin/env bash
# guard's pg_regress and TAP suites against PostgreSQL 18, as root:
#   bash test/pg18/run.sh
# Builds PostgreSQL 18 into its cache first if needed (test/pg18/build.sh,
# about 15 minutes the first time, seconds afterwards), then runs
# test/run.sh with GUARD_PG_CONFIG pointing at it.  guard is installed into
# the cached 18 tree only, never into the system's PostgreSQL.  Core's own
# regression suite (test/pgregress, from the cached 18 source) is skipped
# unless GUARD_SKIP_PGREGRESS=0 (test/run.sh sets it so).
# Ends with test/run.sh's line "N passed, N failed".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${GUARD_PG18_CACHE:-/var/cache/guard-pg18}

bash "$here/build.sh"
export GUARD_PG_CONFIG=$CACHE/pg18/bin/pg_config
export GUARD_SKIP_PGREGRESS=${GUARD_SKIP_PGREGRESS:-1}
export GUARD_PGSRC=$CACHE/src/postgresql-18
export PGREGRESS_WORKDIR=${PGREGRESS_WORKDIR:-/var/tmp/pgcore-regress18}
exec bash "$here/../run.sh"
