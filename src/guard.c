/*-------------------------------------------------------------------------
 *
 * guard.c
 *		Module entry point: GUC definitions and hook installation.
 *
 * guard must be loaded through shared_preload_libraries: its store lives
 * in shared memory and its hooks must see every statement.  When the
 * library is loaded any other way (LOAD, or CREATE EXTENSION in a server
 * that does not preload it) _PG_init does nothing, and every function that
 * needs the store says how to preload it.
 *
 * IDENTIFICATION
 *		src/guard.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/plancache.h"
#include "utils/varlena.h"

#include "compat.h"
#include "guard.h"
#include "hooks.h"
#include "profile.h"
#include "incidents.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* GUC variables */
int			guard_mode = GUARD_MODE_OBSERVE;
int			guard_track = GUARD_TRACK_ALL;
int			guard_seqscan_min_rows = 10000;
int			guard_max_plans = 10000;
int			guard_text_memory_kb = 8192;
bool		guard_save = true;
int			guard_debug_fault = GUARD_FAULT_NONE;
char	   *guard_allow_seqscan = NULL;
int			guard_max_incidents = 1000;
int			guard_flagged_max_concurrency = 0;
int			guard_flagged_wait_timeout = 5000;
bool		guard_correct = false;
bool		guard_explain_verdict = true;
int			guard_fingerprint_rules = GUARD_FINGERPRINT_RULES_DEFAULT;

/*
 * Settings that change verdicts.  A verdict travels with its plan, so when
 * one of these changes (SET by a superuser, or a reload), every cached
 * plan of this backend is re-planned, and so judged again, at its next
 * execution.  ResetPlanCache only marks plans invalid: it cannot fail.
 */
static void
assign_min_rows(int newval, void *extra)
{
	if (newval != guard_seqscan_min_rows)
		ResetPlanCache();
}

static void
assign_allow_seqscan(const char *newval, void *extra)
{
	if (guard_allow_seqscan == NULL || newval == NULL ||
		strcmp(newval, guard_allow_seqscan) != 0)
		ResetPlanCache();
}

/* Plans made while guard.mode was off carry no fingerprint: judge them. */
static void
assign_mode(int newval, void *extra)
{
	if (guard_mode == GUARD_MODE_OFF && newval != GUARD_MODE_OFF)
		ResetPlanCache();
}

static void
assign_correct(bool newval, void *extra)
{
	if (newval != guard_correct)
		ResetPlanCache();
}

/* plans made with one set of statistics must not outlive the switch */
static void
assign_stats_profile(bool newval, void *extra)
{
	if (newval)
		guard_install_profile_hooks();
	if (newval != guard_stats_profile)
		ResetPlanCache();
}

/* guard.allow_seqscan must be a comma-separated list of relation names */
static bool
check_allow_seqscan(char **newval, void **extra, GucSource source)
{
	char	   *copy = pstrdup(*newval);
	List	   *names;
	bool		ok = SplitGUCList(copy, ',', &names);

	if (!ok)
		GUC_check_errdetail("List syntax is invalid: expected relation names separated by commas.");
	list_free(names);
	pfree(copy);
	return ok;
}

static const struct config_enum_entry fault_options[] = {
	{"none", GUARD_FAULT_NONE, false},
	{"fingerprint", GUARD_FAULT_FINGERPRINT, false},
	{"store", GUARD_FAULT_STORE, false},
	{"baseline", GUARD_FAULT_BASELINE, false},
	{"lint", GUARD_FAULT_LINT, false},
	{"incident", GUARD_FAULT_INCIDENT, false},
	{NULL, 0, false}
};

static const struct config_enum_entry mode_options[] = {
	{"off", GUARD_MODE_OFF, false},
	{"observe", GUARD_MODE_OBSERVE, false},
	{"warn", GUARD_MODE_WARN, false},
	{"block", GUARD_MODE_BLOCK, false},
	{NULL, 0, false}
};

static const struct config_enum_entry track_options[] = {
	{"top", GUARD_TRACK_TOP, false},
	{"all", GUARD_TRACK_ALL, false},
	{NULL, 0, false}
};

/*
 * Module load callback.  Keep doc/configuration.md in sync with this list.
 */
void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

	/*
	 * Anything that could weaken protection is superuser-only: an
	 * application role must not be able to switch guard off for itself.
	 */
	DefineCustomEnumVariable("guard.mode",
							 "What guard does with the plans it sees.",
							 "off: nothing; observe: record plans and log incidents; "
							 "warn: also warn the client; block: refuse flagged plans.",
							 &guard_mode,
							 GUARD_MODE_OBSERVE,
							 mode_options,
							 PGC_SUSET,
							 GUC_SUPERUSER_ONLY,
							 NULL, assign_mode, NULL);

	DefineCustomEnumVariable("guard.track",
							 "Which statements guard fingerprints and records.",
							 "top: only statements sent by the client; all: also statements "
							 "run inside functions and procedures.",
							 &guard_track,
							 GUARD_TRACK_ALL,
							 track_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("guard.seqscan_min_rows",
							"Relations estimated below this many rows never count as a "
							"sequential-scan regression.",
							NULL,
							&guard_seqscan_min_rows,
							10000,
							0, INT_MAX,
							PGC_SUSET,
							0,
							NULL, assign_min_rows, NULL);

	DefineCustomIntVariable("guard.max_plans",
							"Maximum number of observed plans kept in shared memory.",
							"When full, the least recently used plans are evicted.",
							&guard_max_plans,
							10000,
							100, 10000000,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("guard.text_memory",
							"Shared memory for the texts of observed plans (query, plan shape, "
							"relations).",
							NULL,
							&guard_text_memory_kb,
							8192,
							1024, MAX_KILOBYTES / 2,
							PGC_POSTMASTER,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("guard.save",
							 "Save observed plans across server shutdowns.",
							 NULL,
							 &guard_save,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("guard.allow_seqscan",
							   "Relations whose sequential scans guard never flags.",
							   "Comma-separated names, schema-qualified (public.events) or not (events).",
							   &guard_allow_seqscan,
							   "",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   check_allow_seqscan, assign_allow_seqscan, NULL);

	DefineCustomIntVariable("guard.max_incidents",
							"Maximum number of incidents kept in shared memory.",
							"When full, the oldest resolved incident is evicted, else the oldest.",
							&guard_max_incidents,
							1000,
							10, 20000,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("guard.flagged_max_concurrency",
							"Limp mode: in block mode, at most this many backends run flagged "
							"plans at a time instead of failing (0: off).",
							"Others wait up to guard.flagged_wait_timeout, then fail. Rejected "
							"plans are always refused.",
							&guard_flagged_max_concurrency,
							0,
							0, 10000,
							PGC_SUSET,
							GUC_SUPERUSER_ONLY,
							NULL, NULL, NULL);

	DefineCustomIntVariable("guard.flagged_wait_timeout",
							"Limp mode: how long a flagged plan waits for a slot before failing.",
							NULL,
							&guard_flagged_wait_timeout,
							5000,
							0, 3600 * 1000,
							PGC_SUSET,
							GUC_SUPERUSER_ONLY | GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("guard.correct",
							 "Re-plan a plan_regression without the regressed sequential scans, "
							 "and run the result if it is an approved plan.",
							 NULL,
							 &guard_correct,
							 false,
							 PGC_SUSET,
							 GUC_SUPERUSER_ONLY,
							 NULL, assign_correct, NULL);

	DefineCustomBoolVariable("guard.stats_profile",
							 "Plan with the imported statistics profile (production's sizes and "
							 "column statistics) instead of this database's own.",
							 "For staging and CI databases: pg_guard stats import loads the profile.",
							 &guard_stats_profile,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, assign_stats_profile, NULL);

	DefineCustomBoolVariable("guard.explain_verdict",
							 "EXPLAIN (text format) adds a \"Guard\" line to plans guard flags.",
							 "Turn off for tools that compare EXPLAIN output verbatim.",
							 &guard_explain_verdict,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	/*
	 * Fixed at start: every hash in the store, the baselines and the
	 * plans in every backend's cache must be of one rules version.
	 */
	DefineCustomIntVariable("guard.fingerprint_rules",
							"Version of the fingerprint rules guard hashes statements and plans "
							"with.",
							"2 (the default): node types and enum values by name, so that "
							"hashes agree across major versions; 1: the rules of guard 0.4 and "
							"before, whose hashes change with the major version.",
							&guard_fingerprint_rules,
							GUARD_FINGERPRINT_RULES_DEFAULT,
							1, GUARD_FINGERPRINT_RULES_MAX,
							PGC_POSTMASTER,
							GUC_SUPERUSER_ONLY,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("guard.debug_fault",
							 "Makes guard fail on purpose (for testing fail-open).",
							 NULL,
							 &guard_debug_fault,
							 GUARD_FAULT_NONE,
							 fault_options,
							 PGC_SUSET,
							 GUC_NOT_IN_SAMPLE,
							 NULL, NULL, NULL);

	GuardMarkGUCPrefixReserved("guard");

#ifndef GUARD_HAVE_SHMEM_REQUEST_HOOK
	guard_store_request();
	guard_incidents_request();
	guard_throttle_request();
#endif

	guard_install_hooks();
}
