/*-------------------------------------------------------------------------
 *
 * hooks.c
 *		Planner, executor and utility hooks; statement nesting.
 *
 * Planner hook: after the standard planner (it needs the finished plan),
 * computes the fingerprint once per plan and keeps it inside the
 * PlannedStmt (fingerprint.c), so a cached plan is never hashed again.  If
 * the store has not seen the plan, its texts are built and it is added
 * with zero executions.
 *
 * ExecutorStart hook: before the standard ExecutorStart (so that a later
 * verdict can stop the statement before anything is initialized), reads
 * the fingerprint back from the plan and counts one execution.  Parallel
 * workers and EXPLAIN without ANALYZE are not executions.
 *
 * ExecutorRun/ExecutorFinish track the nesting level: statements run by
 * functions and triggers execute inside another statement's run.  DO and
 * CALL (ProcessUtility) nest too; other utility statements wrapping a query
 * (EXPLAIN ANALYZE, CREATE TABLE AS, EXECUTE, DECLARE) do not, because that
 * query is the client's statement.
 *
 * guard fails open: an internal error while fingerprinting or recording is
 * reported as a WARNING and the statement runs (guard_fail_open).
 *
 * IDENTIFICATION
 *		src/hooks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/plancat.h"
#include "optimizer/planner.h"
#include "storage/ipc.h"
#include "tcop/utility.h"
#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "compat.h"
#include "guard.h"

/* Saved hook values */
static planner_hook_type prev_planner_hook = NULL;
static get_relation_info_hook_type prev_get_relation_info = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;
#ifdef GUARD_HAVE_SHMEM_REQUEST_HOOK
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Nesting level of statements being executed */
static int	nesting_level = 0;

/* Set by guard.explain: fingerprint, but record nothing */
bool		guard_suppress_recording = false;

/* Sizes seen by the last planning done for guard.explain */
GuardRelSize *guard_last_sizes = NULL;
int			guard_last_nsizes = 0;

/* Relation sizes seen by the planner, for the planning in progress */
#define INLINE_SIZES 8

typedef struct PlanningSizes
{
	GuardRelSize *sizes;		/* inline, or palloc'd when it overflows */
	int			n;
	int			max;
	GuardRelSize inline_sizes[INLINE_SIZES];
} PlanningSizes;

static PlanningSizes *current_sizes = NULL;

/* Depth of guard_planner calls (plannings nested in planning) */
static int	planner_depth = 0;

#define guard_active() \
	(guard_mode != GUARD_MODE_OFF && guard_store_ready())
#define guard_tracks_level(level) \
	(guard_track == GUARD_TRACK_ALL || (level) == 0)

/*
 * guard_fail_open: called in PG_CATCH around guard's own work.  Query
 * cancels and shutdown requests are re-thrown (swallowing them would make
 * the statement uncancellable); anything else becomes a WARNING and the
 * statement goes on.  cxt is the memory context to return to.
 */
void
guard_fail_open(const char *what, MemoryContext cxt)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	/* a spinlock cannot be held here: nothing that can fail runs under one */
	if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
		edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE ||
		edata->sqlerrcode == ERRCODE_T_R_DEADLOCK_DETECTED ||
		edata->sqlerrcode == ERRCODE_T_R_SERIALIZATION_FAILURE ||
		edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
		edata->sqlerrcode == ERRCODE_CRASH_SHUTDOWN ||
		edata->sqlerrcode == ERRCODE_GUARD_BLOCKED ||
		edata->elevel > ERROR ||
		proc_exit_inprogress)
	{
		FreeErrorData(edata);
		PG_RE_THROW();
	}
	FlushErrorState();
	/* the store avoids failing under its lock; make sure all the same */
	guard_store_release_locks();
	ereport(WARNING,
			(errmsg("guard could not %s: %s", what, edata->message),
			 errdetail("The statement runs unguarded.")));
	FreeErrorData(edata);
}

/*
 * get_relation_info hook: remember each base relation's estimated size
 * while a planning that guard follows is in progress.
 */
static void
guard_get_relation_info(PlannerInfo *root, Oid relationObjectId,
						bool inhparent, RelOptInfo *rel)
{
	if (prev_get_relation_info)
		prev_get_relation_info(root, relationObjectId, inhparent, rel);

	if (current_sizes && !inhparent)
	{
		PlanningSizes *ps = current_sizes;

		if (ps->n >= ps->max)
		{
			GuardRelSize *bigger = palloc(ps->max * 2 * sizeof(GuardRelSize));

			memcpy(bigger, ps->sizes, ps->n * sizeof(GuardRelSize));
			if (ps->sizes != ps->inline_sizes)
				pfree(ps->sizes);
			ps->sizes = bigger;
			ps->max *= 2;
		}
		ps->sizes[ps->n].relid = relationObjectId;
		ps->sizes[ps->n].tuples = rel->tuples;
		ps->n++;
	}
}

/*
 * guard_build_texts: the texts of a plan seen for the first time.
 * const_locs == NULL means "no normalization possible": the statement's
 * own text is stored, as pg_stat_statements does in that case.
 */
GuardPlanTexts *
guard_build_texts(PlannedStmt *pstmt, const char *query_string,
				  int *const_locs, int nconsts,
				  const GuardRelSize *sizes, int nsizes)
{
	GuardPlanTexts *texts = palloc0(sizeof(GuardPlanTexts));

	if (const_locs != NULL || nconsts == 0)
		texts->query = guard_normalize_query(query_string, pstmt->stmt_location,
											 pstmt->stmt_len, const_locs, nconsts);
	else
		texts->query = guard_statement_text(query_string, pstmt->stmt_location,
											pstmt->stmt_len);
	texts->plan = guard_plan_shape(pstmt);
	texts->plan = guard_clip_text(texts->plan, strlen(texts->plan));
	texts->nseqscans = guard_plan_seqscans(pstmt, sizes, nsizes, &texts->seqscans);
	return texts;
}

/* What the planner hook learns about a statement before planning it */
typedef struct PrePlan
{
	bool		ok;				/* the jumble succeeded */
	uint64		query_hash;
	bool		has_params;
	int		   *const_locs;
	int			nconsts;
	uint64		queryid;
} PrePlan;

/*
 * plan_verdict: the verdict flags of a plan that may be flagged.  Out of
 * line: most plans never get here.
 */
static pg_noinline uint32
plan_verdict(PlannedStmt *result, const GuardFingerprint *fp, bool has_seqscans,
			 PlanningSizes *ps)
{
	GuardSeqScan *seqscans = NULL;
	int			n = 0;
	GuardVerdict verdict;

	if (has_seqscans)
		n = guard_plan_seqscans(result, ps->sizes, ps->n, &seqscans);
	guard_policy_evaluate(fp->query_hash, fp->plan_hash, seqscans, n, &verdict);
	return verdict.flagged ? (GUARD_FP_FLAGGED | verdict.reasons) : 0;
}

/*
 * Fingerprint a finished plan, attach the fingerprint, and add the plan to
 * the store if it is new there.
 */
static void
fingerprint_plan(PrePlan *pre, const char *query_string,
				 ParamListInfo boundParams, PlannedStmt *result,
				 PlanningSizes *ps)
{
	GuardFingerprint fp;
	List	   *seqscanned;
	double		seqscanned_rows = 0;
	ListCell   *lc;

	if (guard_debug_fault == GUARD_FAULT_FINGERPRINT)
		elog(ERROR, "injected fault in fingerprinting (guard.debug_fault)");

	memset(&fp, 0, sizeof(fp));
	fp.query_hash = pre->query_hash;
	fp.plan_hash = guard_plan_hash(result, &seqscanned);
	fp.queryid = pre->queryid;
	if (boundParams != NULL && boundParams->numParams > 0)
		fp.flags |= GUARD_FP_CUSTOM;
	else if (pre->has_params)
		fp.flags |= GUARD_FP_GENERIC;

	/*
	 * The verdict, once per plan.  First a cheap test: if all the relations
	 * read by sequential scan together stay under guard.seqscan_min_rows,
	 * no seq-scan rule can fire and only rejected_plan is left, one probe of
	 * the cached baseline (none when it rejects nothing).  Only plans with a large
	 * sequential scan pay for relation names and the full rules.
	 */
	foreach(lc, seqscanned)
	{
		Oid			relid = lfirst_oid(lc);
		int			i;

		for (i = 0; i < ps->n; i++)
			if (ps->sizes[i].relid == relid)
			{
				seqscanned_rows += ps->sizes[i].tuples;
				break;
			}
		if (i == ps->n)
			seqscanned_rows += (double) guard_seqscan_min_rows;	/* unknown size */
	}
	if (seqscanned_rows >= (double) guard_seqscan_min_rows)
		fp.flags |= plan_verdict(result, &fp, seqscanned != NIL, ps);
	else if (!guard_baseline_no_rejected() &&
			 guard_baseline_status(fp.query_hash, fp.plan_hash) == GUARD_STATUS_REJECTED)
		fp.flags |= GUARD_FP_FLAGGED | GUARD_FP_REJECTED;	/* the only rule left */

	guard_fingerprint_attach(result, &fp);

	if (guard_suppress_recording)
	{
		/*
		 * guard.explain: hand the sizes over instead of recording; only the
		 * outermost planning's (nested ones run in short-lived contexts).
		 */
		if (planner_depth > 0)
			return;
		guard_last_sizes = palloc(Max(ps->n, 1) * sizeof(GuardRelSize));
		memcpy(guard_last_sizes, ps->sizes, ps->n * sizeof(GuardRelSize));
		guard_last_nsizes = ps->n;
		return;
	}
	if (guard_tracks_level(nesting_level) &&
		!guard_store_known(MyDatabaseId, &fp))
	{
		GuardPlanTexts *texts;

		texts = guard_build_texts(result, query_string, pre->const_locs,
								  pre->nconsts, ps->sizes, ps->n);
		guard_store_add(MyDatabaseId, GetUserId(), &fp, texts);
	}
}

/*
 * Planner hook.  The statement is hashed before the standard planner runs
 * (the planner scribbles on its input: a custom plan would otherwise hash
 * its parameter values as constants); the plan is hashed after it.
 */
/*
 * Call the previous planner hook or the standard planner, with ps (NULL:
 * this planning is not followed) receiving the relation sizes, one level
 * deeper.  Both are restored whatever happens.
 */
static PlannedStmt *
run_planner(Query *parse, const char *query_string, int cursorOptions,
			ParamListInfo boundParams, PlanningSizes *ps)
{
	PlannedStmt *result;
	PlanningSizes *saved_sizes = current_sizes;

	current_sizes = ps;
	planner_depth++;
	PG_TRY();
	{
		if (prev_planner_hook)
			result = prev_planner_hook(parse, query_string, cursorOptions, boundParams);
		else
			result = standard_planner(parse, query_string, cursorOptions, boundParams);
	}
	PG_FINALLY();
	{
		current_sizes = saved_sizes;
		planner_depth--;
	}
	PG_END_TRY();
	return result;
}

static PlannedStmt *
guard_planner(Query *parse, const char *query_string, int cursorOptions,
			  ParamListInfo boundParams)
{
	PlannedStmt *result;
	PlanningSizes ps;
	PrePlan		pre;
	MemoryContext cxt = CurrentMemoryContext;

	/* a nested planning guard does not follow must not feed the outer one */
	if (!guard_active() || IsParallelWorker())
		return run_planner(parse, query_string, cursorOptions, boundParams, NULL);

	memset(&pre, 0, sizeof(pre));
	PG_TRY();
	{
		pre.query_hash = guard_query_hash(parse, &pre.has_params,
										  &pre.const_locs, &pre.nconsts);
		pre.queryid = parse->queryId;
		pre.ok = true;
	}
	PG_CATCH();
	{
		guard_fail_open("fingerprint a statement", cxt);
	}
	PG_END_TRY();

	ps.sizes = ps.inline_sizes;
	ps.n = 0;
	ps.max = INLINE_SIZES;
	result = run_planner(parse, query_string, cursorOptions, boundParams, &ps);

	if (pre.ok)
	{
		PG_TRY();
		{
			fingerprint_plan(&pre, query_string, boundParams, result, &ps);
		}
		PG_CATCH();
		{
			guard_fail_open("fingerprint a plan", cxt);
		}
		PG_END_TRY();
	}

	if (ps.sizes != ps.inline_sizes && ps.sizes != NULL)
		pfree(ps.sizes);
	return result;
}

/*
 * Re-add a plan evicted since it was planned (rare).  Its statement text is
 * stored as written: the constants' locations are gone with the parse tree.
 */
static void
readd_plan(QueryDesc *queryDesc, GuardFingerprint *fp, TimestampTz now)
{
	PlannedStmt *pstmt = queryDesc->plannedstmt;

	guard_store_add(MyDatabaseId, GetUserId(), fp,
					guard_build_texts(pstmt, queryDesc->sourceText, NULL, -1, NULL, 0));
	(void) guard_store_count(MyDatabaseId, fp, now);
}

/*
 * act_on_flagged: warn about or block a flagged plan (guard.mode warn or
 * block).  Runs before the executor has initialized anything, so a
 * blocked statement has no side effects.  The facts for the message are
 * recomputed from the plan: this path is the exception, not the rule.
 */
static pg_noinline void
act_on_flagged(QueryDesc *queryDesc, const GuardFingerprint *fp)
{
	PlannedStmt *pstmt = queryDesc->plannedstmt;
	GuardSeqScan *seqscans;
	int			n;
	GuardVerdict verdict;
	char	   *shape;
	List	   *reasons = guard_reason_names(fp->flags & GUARD_FP_REASONS);
	StringInfoData reason_text;
	ListCell   *lc;

	n = guard_plan_seqscans(pstmt, NULL, 0, &seqscans);
	guard_policy_evaluate(fp->query_hash, fp->plan_hash, seqscans, n, &verdict);
	shape = guard_plan_shape(pstmt);
	initStringInfo(&reason_text);
	foreach(lc, reasons)
		appendStringInfo(&reason_text, "%s%s", reason_text.len ? ", " : "",
						 (char *) lfirst(lc));

	if (verdict.relation)
		ereport(guard_mode == GUARD_MODE_BLOCK ? ERROR : WARNING,
				(errcode(ERRCODE_GUARD_BLOCKED),
				 guard_mode == GUARD_MODE_BLOCK ?
				 errmsg("guard blocked a plan that sequentially scans %s (about %.0f rows)",
						verdict.relation, verdict.relation_rows) :
				 errmsg("plan sequentially scans %s (about %.0f rows); guard.mode = block would stop it",
						verdict.relation, verdict.relation_rows),
				 errdetail("Reasons: %s. query_hash %lld, plan_hash %lld, plan:\n%s",
						   reason_text.data, (long long) fp->query_hash,
						   (long long) fp->plan_hash, shape),
				 errhint("If this plan is intended, approve it: SELECT guard.approve(%lld, %lld);",
						 (long long) fp->query_hash, (long long) fp->plan_hash)));
	else
		ereport(guard_mode == GUARD_MODE_BLOCK ? ERROR : WARNING,
				(errcode(ERRCODE_GUARD_BLOCKED),
				 guard_mode == GUARD_MODE_BLOCK ?
				 errmsg("guard blocked a plan that was rejected") :
				 errmsg("plan was rejected; guard.mode = block would stop it"),
				 errdetail("Reasons: %s. query_hash %lld, plan_hash %lld, plan:\n%s",
						   reason_text.data, (long long) fp->query_hash,
						   (long long) fp->plan_hash, shape),
				 errhint("If this plan is intended, approve it: SELECT guard.approve(%lld, %lld);",
						 (long long) fp->query_hash, (long long) fp->plan_hash)));
}

/*
 * ExecutorStart hook.  guard's work runs before the standard ExecutorStart,
 * so that nothing is initialized for a statement guard stops.
 */
static void
guard_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	GuardFingerprint fp;

	if (guard_active() && !IsParallelWorker() &&
		(eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 &&
		!guard_suppress_recording &&
		guard_fingerprint_get(queryDesc->plannedstmt, &fp))
	{
		/* fast path, cannot fail: count the call */
		if (guard_tracks_level(nesting_level))
		{
			TimestampTz now = GetCurrentStatementStartTimestamp();

			if (!guard_store_count(MyDatabaseId, &fp, now))
			{
				MemoryContext cxt = CurrentMemoryContext;

				PG_TRY();
				{
					readd_plan(queryDesc, &fp, now);
				}
				PG_CATCH();
				{
					guard_fail_open("record an execution", cxt);
				}
				PG_END_TRY();
			}
		}

		/*
		 * A flagged plan: the mode decides, at every nesting level.  guard's
		 * own failures while building the message fail open; the block
		 * itself (GD001) is re-thrown by guard_fail_open.
		 */
		if ((fp.flags & GUARD_FP_FLAGGED) && guard_mode >= GUARD_MODE_WARN)
		{
			MemoryContext cxt = CurrentMemoryContext;

			PG_TRY();
			{
				act_on_flagged(queryDesc, &fp);
			}
			PG_CATCH();
			{
				guard_fail_open("judge a flagged plan", cxt);
			}
			PG_END_TRY();
		}
	}

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/* ExecutorRun hook: statements started inside this one are nested. */
static void
guard_ExecutorRun(GUARD_EXECUTOR_RUN_ARGS)
{
	nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorRun)
			prev_ExecutorRun(GUARD_EXECUTOR_RUN_PASS);
		else
			standard_ExecutorRun(GUARD_EXECUTOR_RUN_PASS);
	}
	PG_FINALLY();
	{
		nesting_level--;
	}
	PG_END_TRY();
}

/* ExecutorFinish hook: AFTER triggers run here, nested. */
static void
guard_ExecutorFinish(QueryDesc *queryDesc)
{
	nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		nesting_level--;
	}
	PG_END_TRY();
}

/* Run a DO block or CALL one level deeper (out of line: it has a PG_TRY). */
static pg_noinline void
process_utility_nested(GUARD_UTILITY_ARGS)
{
	nesting_level++;
	PG_TRY();
	{
		if (prev_ProcessUtility)
			prev_ProcessUtility(GUARD_UTILITY_PASS);
		else
			standard_ProcessUtility(GUARD_UTILITY_PASS);
	}
	PG_FINALLY();
	{
		nesting_level--;
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
}
#endif

static void
guard_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	guard_store_startup();
}

/* guard_install_hooks: chain guard into every hook it uses (_PG_init). */
void
guard_install_hooks(void)
{
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
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = guard_ProcessUtility;

	guard_namecache_init();
}
