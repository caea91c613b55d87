# guard: PGXS build.  `make && make install` as root, tests as the postgres user
# (see README.md: `make installcheck` runs pg_regress against a temporary
# instance with guard preloaded, `make prove` runs the TAP tests).

MODULE_big = guard
OBJS = src/guard.o src/hooks.o src/fingerprint.o src/normalize.o src/policy.o \
       src/namecache.o src/store.o src/sqlfuncs.o src/baseline.o src/lint.o \
       src/incidents.o src/notifier.o src/throttle.o src/names.o src/failopen.o \
       src/judge.o src/enforce.o src/correct.o src/review.o \
       src/replan.o src/rekey.o src/profile.o src/citus.o

EXTENSION = guard
DATA = sql/guard--0.1.sql sql/guard--0.1--0.2.sql sql/guard--0.2--0.3.sql \
       sql/guard--0.3--0.4.sql sql/guard--0.4--0.5.sql \
       sql/guard--0.5--0.6.sql
PGFILEDESC = "guard - plan fingerprints and sequential-scan regression guard"

REGRESS = setup fingerprint plans explain security failopen baseline review block lint incidents correct limp \
          privacy reset trust replan profile
REGRESS_OPTS = --temp-config=$(srcdir)/test/fixtures/regress.conf \
               --temp-instance=./tmp_check_regress
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

EXTRA_CLEAN = tmp_check tmp_check_regress tmp_check_rules1 results regression.diffs regression.out log

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The fingerprint tests again under guard.fingerprint_rules = 1, the rules
# of 0.4 and before (the setting is fixed at server start: an instance of
# its own).
REGRESS_RULES1 = fingerprint_v1
.PHONY: installcheck-rules1
installcheck-rules1:
	$(pg_regress_installcheck) --temp-config=$(srcdir)/test/fixtures/regress_rules1.conf \
		--temp-instance=./tmp_check_rules1 $(REGRESS_RULES1)

# PostgreSQL's own regression suite against a server with guard preloaded
# (minutes; needs the server source, fetched by the script).
.PHONY: pgregress
pgregress:
	test/pgregress/run.sh

# PGXS tracks no header dependencies: rebuild every object when a header
# changes, so that a stale object can never reach `make install`.
$(OBJS): $(wildcard $(srcdir)/src/*.h)

# pg_guard, the command-line tool: a frontend program (libpq, libyaml),
# built and installed with the extension (doc/pg_guard.md).
PG_GUARD_OBJS = src/cli/pg_guard.o src/cli/baseline.o src/cli/check.o src/cli/shapes.o \
                src/cli/yamlio.o src/cli/stats.o
EXTRA_CLEAN += src/cli/pg_guard $(PG_GUARD_OBJS)

all: src/cli/pg_guard

$(PG_GUARD_OBJS): CPPFLAGS := -I$(includedir) $(CPPFLAGS)
$(PG_GUARD_OBJS): $(srcdir)/src/cli/pg_guard.h $(srcdir)/src/textparams.h

src/cli/pg_guard: $(PG_GUARD_OBJS)
	$(CC) $(CFLAGS) $(PG_GUARD_OBJS) $(LDFLAGS) $(LDFLAGS_EX) -L$(libdir) -Wl,-rpath,$(libdir) -lpq -lyaml -o $@

install: install-pg_guard
.PHONY: install-pg_guard
install-pg_guard: src/cli/pg_guard
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) src/cli/pg_guard '$(DESTDIR)$(bindir)/pg_guard'

# A libFuzzer target for pg_guard's YAML reader (not part of the build or
# of CI): test/fuzz/run.sh builds and runs it (doc/testing.md).
.PHONY: fuzz
fuzz: src/cli/fuzz_yaml
src/cli/fuzz_yaml: src/cli/fuzz_yaml.c src/cli/yamlio.c src/cli/shapes.c src/cli/pg_guard.h
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Dexit=fuzz_exit -I$(includedir) \
		src/cli/fuzz_yaml.c src/cli/yamlio.c src/cli/shapes.c -lyaml -o $@
