/*-------------------------------------------------------------------------
 *
 * hooks.c
 *		Hook wiring: planner, get_relation_info, executor, EXPLAIN,
 *		utility and shared-memory hooks; statement nesting.
 *
 * Thin hooks, one pipeline, as contrib/pg_stat_statements routes its hooks
 * into one store function:
 *	- planner hook -> guard_plan (judge.c): fingerprint and judgment, once
 *	  per plan, after the standard planner (it needs the finished plan);
 *	- get_relation_info hook -> guard_profile_relation_info (profile.c:
 *	  production's sizes, under a statistics profile), then
 *	  guard_judge_note_size: the planner's size estimate of each base
 *	  relation, for the judgment;
 *	- get_relation_stats / get_index_stats / get_attavgwidth hooks ->
 *	  profile.c: production's column statistics, under a statistics profile;
 *	- ExecutorStart hook -> guard_enforce (enforce.c), before the standard
 *	  ExecutorStart, so that nothing is initialized for a statement guard
 *	  stops;
 *	- ExplainOneQuery hook -> guard_explain_line (enforce.c) and
 *	  guard_profile_explain_line (profile.c).
 * No hook judges anything itself.
 *
 * ExecutorRun/ExecutorFinish track the nesting level: statements run by
 * functions and triggers execute inside another statement's run.  DO and
 * CALL (ProcessUtility) nest too; other utility statements wrapping a query
 * (EXPLAIN ANALYZE, CREATE TABLE AS, EXECUTE, DECLARE) do not, because that
 * query is the client's statement.
 *
 * Parallel workers: the part of a plan a worker runs carries no
 * fingerprint (the leader judged and counted it), but statements planned
 * inside a worker (a PARALLEL SAFE function's body) are judged and
 * enforced like any other nested statement.
 *
 * IDENTIFICATION
 *		src/hooks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "optimizer/plancat.h"
#include "optimizer/planner.h"
#include "postmaster/bgworker.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "tcop/utility.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "compat.h"
#ifdef GUARD_HAVE_EXPLAIN_STATE_H
#include "commands/explain_format.h"
#include "commands/explain_state.h"
#endif
#include "enforce.h"
#include "guard.h"
#include "hooks.h"
#include "incidents.h"
#include "judge.h"
#include "baseline.h"
#include "citus.h"
#include "namecache.h"
#include "profile.h"
#include "store.h"
#include "throttle.h"

/* Saved hook values */
static planner_hook_type prev_planner_hook = NULL;
static get_relation_info_hook_type prev_get_relation_info = NULL;
static get_relation_stats_hook_type prev_get_relation_stats = NULL;
static get_index_stats_hook_type prev_get_index_stats = NULL;
static get_attavgwidth_hook_type prev_get_attavgwidth = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;
#ifdef GUARD_HAVE_EXPLAIN_PER_PLAN_HOOK
static explain_per_plan_hook_type prev_explain_per_plan = NULL;
#else
static ExplainOneQuery_hook_type prev_ExplainOneQuery = NULL;
#endif
static ProcessUtility_hook_type prev_ProcessUtility = NULL;
#ifdef GUARD_HAVE_SHMEM_REQUEST_HOOK
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/*
 * Nesting level of statements being executed: exec_level counts the
 * ExecutorRun and ExecutorFinish calls in progress, utility_level the DO
 * and CALL bodies.  exec_level is kept without a PG_TRY (those hooks run for
 * every statement): an error leaves it high until the (sub)transaction
 * abort restores it from the unwind point saved when the subtransaction
 * started (unwind_subxact_cb), or resets it at a transaction's abort.  A
 * procedure's COMMIT or ROLLBACK runs with no executor in progress, so the
 * reset is right there too.  DO and CALL (rare) keep their PG_FINALLY.
 */
static int	exec_level = 0;
static int	utility_level = 0;

#define nesting_level (exec_level + utility_level)

/* What a subtransaction's abort restores: one point per nesting depth */
typedef struct UnwindPoint
{
	int			exec_level;
	GuardPlanningState planning;
} UnwindPoint;

#define UNWIND_INLINE 32
static UnwindPoint unwind_inline[UNWIND_INLINE];
static UnwindPoint *unwind_points = unwind_inline;
static int	unwind_max = UNWIND_INLINE;

/*
 * Subtransaction callback: remember the nesting and planning state when a
 * subtransaction starts, restore it when it aborts (the error that aborts
 * it may have left ExecutorRun, ExecutorFinish or the planner midway).
 */
static void
unwind_subxact_cb(SubXactEvent event, SubTransactionId mySubid,
				  SubTransactionId parentSubid, void *arg)
{
	int			depth = GetCurrentTransactionNestLevel();

	if (event == SUBXACT_EVENT_START_SUB)
	{
		if (depth >= unwind_max)
		{
			int			newmax = Max(unwind_max * 2, depth + 1);
			UnwindPoint *bigger = MemoryContextAlloc(TopMemoryContext,
													 newmax * sizeof(UnwindPoint));

			memcpy(bigger, unwind_points, unwind_max * sizeof(UnwindPoint));
			if (unwind_points != unwind_inline)
				pfree(unwind_points);
			unwind_points = bigger;
			unwind_max = newmax;
		}
		unwind_points[depth].exec_level = exec_level;
		guard_judge_save_state(&unwind_points[depth].planning);
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB && depth < unwind_max)
	{
		exec_level = unwind_points[depth].exec_level;
		guard_judge_restore_state(&unwind_points[depth].planning);
	}
}

/* Transaction callback: after an abort no statement runs and none plans. */
static void
unwind_xact_cb(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		exec_level = 0;
		guard_judge_restore_state(NULL);
	}
}

#define guard_active() \
	(guard_mode != GUARD_MODE_OFF && guard_store_ready())
#define guard_tracks_level(level) \
	(guard_track == GUARD_TRACK_ALL || (level) == 0)


/*
 * get_relation_info hook: report each base relation's estimated size to
 * the planning in progress (judge.c keeps it only for plannings it
 * follows).
 */
static void
guard_get_relation_info(PlannerInfo *root, Oid relationObjectId,
						bool inhparent, RelOptInfo *rel)
{
	if (prev_get_relation_info)
		prev_get_relation_info(root, relationObjectId, inhparent, rel);
	/* production's sizes first (profile.c), so that they are what is judged */
	if (guard_stats_profile)
		guard_profile_relation_info(root, relationObjectId, inhparent, rel);
	if (!inhparent)
		guard_judge_note_size(relationObjectId, rel->tuples, rel->pages);
}

/*
 * get_relation_stats_hook: a column's statistics from the statistics
 * profile when guard.stats_profile is on (the DBA's explicit choice, so
 * before any other extension's), else from the previous hook, else core's.
 */
static bool
guard_get_relation_stats(PlannerInfo *root, RangeTblEntry *rte,
						 AttrNumber attnum, VariableStatData *vardata)
{
	if (guard_stats_profile && guard_profile_relation_stats(root, rte, attnum, vardata))
		return true;
	if (prev_get_relation_stats)
		return prev_get_relation_stats(root, rte, attnum, vardata);
	return false;
}

/* get_attavgwidth_hook: a column's average width, from the profile too */
static int32
guard_get_attavgwidth(Oid relid, AttrNumber attnum)
{
	int32		width = guard_stats_profile ? guard_profile_attavgwidth(relid, attnum) : 0;

	if (width > 0)
		return width;
	if (prev_get_attavgwidth)
		return prev_get_attavgwidth(relid, attnum);
	return 0;
}

/* get_index_stats_hook: the same for expression index columns */
static bool
guard_get_index_stats(PlannerInfo *root, Oid indexOid, AttrNumber indexattnum,
					  VariableStatData *vardata)
{
	if (guard_stats_profile && guard_profile_index_stats(root, indexOid, indexattnum, vardata))
		return true;
	if (prev_get_index_stats)
		return prev_get_index_stats(root, indexOid, indexattnum, vardata);
	return false;
}

/*
 * guard_next_planner: the planner guard's hook wraps: the previous hook,
 * or the standard planner.
 */
PlannedStmt *
guard_next_planner(Query *parse, const char *query_string, int cursorOptions,
				   ParamListInfo boundParams)
{
	if (prev_planner_hook)
		return prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

/* this process is one of Citus's background workers; -1: not known yet */
static int	citus_daemon = -1;

/*
 * An EXPLAIN handed to another extension's hook (15-17): the planner hook
 * notes the statement's plan here, at the planner depth of that EXPLAIN.
 */
static int	planner_depth = 0;
static bool explain_capture = false;
static int	explain_depth = 0;
static PlannedStmt *explain_captured = NULL;

/*
 * Planner hook: guard's work (judge.c) wraps the next planner: the
 * statement is hashed before it runs, the plan judged after.
 */
static PlannedStmt *
guard_planner(Query *parse, const char *query_string, int cursorOptions,
			  ParamListInfo boundParams)
{
	PlannedStmt *result;
	int			depth = planner_depth++;

	/*
	 * Citus's own statements are neither judged nor recorded: those of its
	 * background workers (its maintenance daemon), and each one it sends
	 * over its connections for itself (citus.c).  Each statement is
	 * classified on its own, so a session named like Citus's gains nothing.
	 *
	 * No PG_TRY on this path (it is every planning's): after an error the
	 * depth stays one higher, which only shifts every later depth alike,
	 * and EXPLAIN compares depths taken the same way.
	 */
	if (citus_daemon < 0)
		citus_daemon = MyBgworkerEntry != NULL &&
			strcmp(MyBgworkerEntry->bgw_library_name, "citus") == 0;
	if (!guard_active() || citus_daemon ||
		(guard_citus_loaded != 0 && guard_citus_internal_statement(parse)))
		result = guard_plan_unjudged(parse, query_string, cursorOptions,
									 boundParams, guard_next_planner);
	else
		result = guard_plan(parse, query_string, cursorOptions, boundParams,
							guard_next_planner, guard_tracks_level(nesting_level), NULL);
	planner_depth = depth;
	/* the plan an EXPLAIN handed to another extension's hook made (below) */
	if (explain_capture && depth == explain_depth && explain_captured == NULL)
		explain_captured = result;
	return result;
}

/*
 * ExecutorStart hook.  guard's work runs before the standard ExecutorStart,
 * so that nothing is initialized for a statement guard stops.
 */
static void
guard_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	if (guard_active() && (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0)
		guard_enforce(queryDesc, eflags, guard_tracks_level(nesting_level));

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/* ExecutorEnd hook: a throttled statement gives its slot back. */
static void
guard_ExecutorEnd(QueryDesc *queryDesc)
{
	if (guard_throttle_active)
		guard_throttle_leave(queryDesc);
	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

#ifdef GUARD_HAVE_EXPLAIN_PER_PLAN_HOOK
/*
 * explain_per_plan_hook (18+): the "Guard" property of a plan guard flags
 * (or corrected), in every EXPLAIN format and for EXPLAIN EXECUTE too.
 * EXPLAIN without ANALYZE never runs the statement, so it is never blocked;
 * it says what would happen.
 */
static void
guard_explain_per_plan(PlannedStmt *plannedstmt, IntoClause *into,
					   ExplainState *es, const char *queryString,
					   ParamListInfo params, QueryEnvironment *queryEnv)
{
	char	   *volatile verdict = NULL;
	MemoryContext cxt = CurrentMemoryContext;

	char	   *profile;

	if (prev_explain_per_plan)
		prev_explain_per_plan(plannedstmt, into, es, queryString, params, queryEnv);
	/* a plan made under a statistics profile says so, whatever the settings */
	profile = guard_profile_explain_line(plannedstmt);
	if (profile != NULL)
		ExplainPropertyText("Guard Statistics Profile", profile, es);
	if (!guard_explain_verdict || !guard_active())
		return;
	PG_TRY();
	{
		verdict = guard_explain_line(plannedstmt);
	}
	PG_CATCH();
	{
		guard_fail_open("judge a plan for EXPLAIN", "EXPLAIN shows the plan without guard's line.", cxt);
	}
	PG_END_TRY();
	if (verdict != NULL)
		ExplainPropertyText("Guard", verdict, es);
}
#else
/*
 * The lines guard adds to a plan's text EXPLAIN: the statistics profile it
 * was planned under, and the verdict on it (NULL: no line).
 */
static void
explain_lines(PlannedStmt *plan, ExplainState *es, char **profile, char *volatile *verdict)
{
	*profile = NULL;
	*verdict = NULL;
	if (es->format != EXPLAIN_FORMAT_TEXT)
		return;
	*profile = guard_profile_explain_line(plan);
	if (guard_explain_verdict && guard_active())
	{
		MemoryContext cxt = CurrentMemoryContext;

		PG_TRY();
		{
			*verdict = guard_explain_line(plan);
		}
		PG_CATCH();
		{
			guard_fail_open("judge a plan for EXPLAIN", "EXPLAIN shows the plan without guard's line.", cxt);
		}
		PG_END_TRY();
	}
}

/*
 * ExplainOneQuery hook: EXPLAIN as core does it, plus a "Guard" line with
 * the verdict of a flagged plan (text format; the other formats have no
 * place for it before PostgreSQL 18's explain hooks).  EXPLAIN without
 * ANALYZE never runs the statement, so it is never blocked; it says what
 * would happen.
 */
static void
guard_ExplainOneQuery(Query *query, int cursorOptions, IntoClause *into,
					  ExplainState *es, const char *queryString,
					  ParamListInfo params, QueryEnvironment *queryEnv)
{
	PlannedStmt *plan;
	instr_time	planstart,
				planduration;
	BufferUsage bufusage_start,
				bufusage;
	char	   *volatile verdict = NULL;
	char	   *profile = NULL;
#ifdef GUARD_HAVE_EXPLAIN_MEMORY
	MemoryContextCounters mem_counters;
	MemoryContext planner_ctx = NULL;
	MemoryContext saved_ctx = NULL;
#endif

	if (prev_ExplainOneQuery)
	{
		/*
		 * Another extension's EXPLAIN (Citus's) plans and prints: guard
		 * chains rather than hands over.  The first plan made at this
		 * planner depth while it runs is the statement's; its lines are
		 * added after the other extension's output (text format).
		 */
		bool		save_capture = explain_capture;
		int			save_depth = explain_depth;
		PlannedStmt *save_captured = explain_captured;

		explain_capture = true;
		explain_depth = planner_depth;
		explain_captured = NULL;
		PG_TRY();
		{
			prev_ExplainOneQuery(query, cursorOptions, into, es, queryString,
								 params, queryEnv);
			plan = explain_captured;
		}
		PG_FINALLY();
		{
			explain_capture = save_capture;
			explain_depth = save_depth;
			explain_captured = save_captured;
		}
		PG_END_TRY();
		if (plan != NULL)
		{
			explain_lines(plan, es, &profile, &verdict);
			if (profile != NULL)
				ExplainPropertyText("Guard Statistics Profile", profile, es);
			if (verdict != NULL)
				ExplainPropertyText("Guard", verdict, es);
		}
		return;
	}

#ifdef GUARD_HAVE_EXPLAIN_MEMORY
	/* EXPLAIN (MEMORY): plan in a context of its own, as core does (17+) */
	if (es->memory)
	{
		planner_ctx = AllocSetContextCreate(CurrentMemoryContext,
											"explain analyze planner context",
											ALLOCSET_DEFAULT_SIZES);
		saved_ctx = MemoryContextSwitchTo(planner_ctx);
	}
#endif
	if (es->buffers)
		bufusage_start = pgBufferUsage;
	INSTR_TIME_SET_CURRENT(planstart);
	plan = pg_plan_query(query, queryString, cursorOptions, params);
	INSTR_TIME_SET_CURRENT(planduration);
	INSTR_TIME_SUBTRACT(planduration, planstart);
#ifdef GUARD_HAVE_EXPLAIN_MEMORY
	if (es->memory)
	{
		MemoryContextSwitchTo(saved_ctx);
		MemoryContextMemConsumed(planner_ctx, &mem_counters);
	}
#endif
	if (es->buffers)
	{
		memset(&bufusage, 0, sizeof(BufferUsage));
		BufferUsageAccumDiff(&bufusage, &pgBufferUsage, &bufusage_start);
	}

	explain_lines(plan, es, &profile, &verdict);

#ifdef GUARD_HAVE_EXPLAIN_MEMORY
	ExplainOnePlan(plan, into, es, queryString, params, queryEnv,
				   &planduration, (es->buffers ? &bufusage : NULL),
				   (es->memory ? &mem_counters : NULL));
#else
	ExplainOnePlan(plan, into, es, queryString, params, queryEnv,
				   &planduration, (es->buffers ? &bufusage : NULL));
#endif

	if (profile != NULL)
		ExplainPropertyText("Guard Statistics Profile", profile, es);
	if (verdict != NULL)
		ExplainPropertyText("Guard", verdict, es);
}

#endif							/* GUARD_HAVE_EXPLAIN_PER_PLAN_HOOK */

/*
 * ExecutorRun hook: statements started inside this one are nested.  No
 * PG_TRY: see exec_level.
 */
static void
guard_ExecutorRun(GUARD_EXECUTOR_RUN_ARGS)
{
	exec_level++;
	if (prev_ExecutorRun)
		prev_ExecutorRun(GUARD_EXECUTOR_RUN_PASS);
	else
		standard_ExecutorRun(GUARD_EXECUTOR_RUN_PASS);
	exec_level--;
}

/* ExecutorFinish hook: AFTER triggers run here, nested. */
static void
guard_ExecutorFinish(QueryDesc *queryDesc)
{
	exec_level++;
	if (prev_ExecutorFinish)
		prev_ExecutorFinish(queryDesc);
	else
		standard_ExecutorFinish(queryDesc);
	exec_level--;
}

/* Run a DO block or CALL one level deeper (out of line: it has a PG_TRY). */
static pg_noinline void
process_utility_nested(GUARD_UTILITY_ARGS)
{
	utility_level++;
	PG_TRY();
	{
		if (prev_ProcessUtility)
			prev_ProcessUtility(GUARD_UTILITY_PASS);
		else
			standard_ProcessUtility(GUARD_UTILITY_PASS);
	}
	PG_FINALLY();
	{
		utility_level--;
	}
	PG_END_TRY();
}

/* ProcessUtility hook: the bodies of DO blocks and procedures are nested. */
static void
guard_ProcessUtility(GUARD_UTILITY_ARGS)
{
	Node	   *stmt = pstmt->utilityStmt;

	if (IsA(stmt, DoStmt) || IsA(stmt, CallStmt))
		process_utility_nested(GUARD_UTILITY_PASS);
	else if (prev_ProcessUtility)
		prev_ProcessUtility(GUARD_UTILITY_PASS);
	else
		standard_ProcessUtility(GUARD_UTILITY_PASS);
}

#ifdef GUARD_HAVE_SHMEM_REQUEST_HOOK
static void
guard_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	guard_store_request();
	guard_incidents_request();
	guard_throttle_request();
}
#endif

static void
guard_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	guard_store_startup();
	guard_incidents_startup();
	guard_throttle_startup();
}

/*
 * guard_install_profile_hooks: chain guard into the planner's statistics
 * hooks, the first time guard.stats_profile is turned on in this process
 * (its assign hook): the planner calls them for every column it estimates,
 * and a backend that never plans under a profile should not pay for the
 * calls.  Once installed they stay (another extension may have chained
 * behind them since); while the setting is off they return at once.
 */
void
guard_install_profile_hooks(void)
{
	static bool installed = false;

	if (installed)
		return;
	prev_get_relation_stats = get_relation_stats_hook;
	get_relation_stats_hook = guard_get_relation_stats;
	prev_get_index_stats = get_index_stats_hook;
	get_index_stats_hook = guard_get_index_stats;
	prev_get_attavgwidth = get_attavgwidth_hook;
	get_attavgwidth_hook = guard_get_attavgwidth;
	installed = true;
}

/*
 * One relcache invalidation callback for all of guard, dispatching to each
 * module's: a process has room for only ten (MAX_RELCACHE_CALLBACKS),
 * shared with every other extension loaded (Citus alone takes several),
 * and running out is a FATAL error in the backend that asks for one.
 * Each module's function only marks its copy stale.
 */
static void
guard_relcache_callback(Datum arg, Oid relid)
{
	guard_namecache_relcache_inval(relid);
	guard_judge_relcache_inval(relid);
	guard_baseline_relcache_inval(relid);
	guard_profile_relcache_inval(relid);
	guard_citus_relcache_inval(relid);
}

/* guard_install_hooks: chain guard into every hook it uses (_PG_init). */
void
guard_install_hooks(void)
{
	CacheRegisterRelcacheCallback(guard_relcache_callback, (Datum) 0);
#ifdef GUARD_HAVE_SHMEM_REQUEST_HOOK
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = guard_shmem_request;
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = guard_shmem_startup;

	prev_planner_hook = planner_hook;
	planner_hook = guard_planner;
	prev_get_relation_info = get_relation_info_hook;
	get_relation_info_hook = guard_get_relation_info;
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = guard_ExecutorStart;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = guard_ExecutorRun;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = guard_ExecutorFinish;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = guard_ExecutorEnd;
#ifdef GUARD_HAVE_EXPLAIN_PER_PLAN_HOOK
	prev_explain_per_plan = explain_per_plan_hook;
	explain_per_plan_hook = guard_explain_per_plan;
#else
	prev_ExplainOneQuery = ExplainOneQuery_hook;
	ExplainOneQuery_hook = guard_ExplainOneQuery;
#endif
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = guard_ProcessUtility;

	RegisterXactCallback(unwind_xact_cb, NULL);
	RegisterSubXactCallback(unwind_subxact_cb, NULL);

	guard_namecache_init();
}
