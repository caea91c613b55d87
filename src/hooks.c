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
#include "catalog/pg_class.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/paths.h"
#include "optimizer/plancat.h"
#include "optimizer/planner.h"
#include "storage/ipc.h"
#include "tcop/utility.h"
#include "lib/stringinfo.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "compat.h"
#include "guard.h"
#include "hooks.h"
#include "fingerprint.h"
#include "store.h"
#include "baseline.h"
#include "policy.h"
#include "lint.h"
#include "incidents.h"
#include "throttle.h"

/* Saved hook values */
static planner_hook_type prev_planner_hook = NULL;
static get_relation_info_hook_type prev_get_relation_info = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;
static set_rel_pathlist_hook_type prev_set_rel_pathlist = NULL;
static ExplainOneQuery_hook_type prev_ExplainOneQuery = NULL;
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
	bool		maybe_andor;	/* the lint may find something */
	bool		andor;			/* the lint found something */
	uint32		extra_flags;	/* GUARD_FP_CORRECTED */
} PrePlan;

/*
 * plan_verdict: the verdict flags of a plan that may be flagged.  Out of
 * line: most plans never get here.
 */
static pg_noinline uint32
plan_verdict(PlannedStmt *result, const GuardFingerprint *fp, bool has_seqscans,
			 PlanningSizes *ps, GuardVerdict *verdict)
{
	GuardSeqScan *seqscans = NULL;
	int			n = 0;

	if (has_seqscans)
		n = guard_plan_seqscans(result, ps->sizes, ps->n, &seqscans);
	guard_policy_evaluate(fp->query_hash, fp->plan_hash, seqscans, n, verdict);
	return verdict->flagged ? (GUARD_FP_FLAGGED | verdict->reasons) : 0;
}

/*
 * Fingerprint a finished plan, attach the fingerprint, and add the plan to
 * the store if it is new there.
 */
static void
fingerprint_plan(PrePlan *pre, const char *query_string,
				 ParamListInfo boundParams, PlannedStmt *result,
				 PlanningSizes *ps, GuardFingerprint *fp_out, GuardVerdict *verdict)
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
	fp.flags = pre->extra_flags;
	if (pre->andor)
		fp.flags |= GUARD_FP_ANDOR;
	verdict->nregressed = 0;	/* plan_verdict fills it in when it runs */
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
		fp.flags |= plan_verdict(result, &fp, seqscanned != NIL, ps, verdict);
	else if (!guard_baseline_no_rejected() &&
			 guard_baseline_status(fp.query_hash, fp.plan_hash) == GUARD_STATUS_REJECTED)
		fp.flags |= GUARD_FP_FLAGGED | GUARD_FP_REJECTED;	/* the only rule left */

	guard_fingerprint_attach(result, &fp);
	*fp_out = fp;
	fp_out->flags |= GUARD_FP_VALID;

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

/*
 * Plan correction (guard.correct): while re-planning a statement whose new
 * plan regressed, the relations listed here get no sequential-scan paths
 * (set_rel_pathlist hook), at that planning level only.
 */
static Oid *correcting_relids = NULL;
static int	correcting_n = 0;
static int	correcting_depth = 0;

static bool
correcting_rel(PlannerInfo *root, RelOptInfo *rel, RangeTblEntry *rte)
{
	int			i;
	Oid			relid = rte->relid;

	/* a partition's scan counts as its parent's */
	if (rel->reloptkind == RELOPT_OTHER_MEMBER_REL && root->append_rel_array &&
		root->append_rel_array[rel->relid])
	{
		Oid			parent = root->append_rel_array[rel->relid]->parent_reloid;

		for (i = 0; i < correcting_n; i++)
			if (correcting_relids[i] == parent)
				return true;
	}
	for (i = 0; i < correcting_n; i++)
		if (correcting_relids[i] == relid)
			return true;
	return false;
}

/*
 * set_rel_pathlist hook.  For a relation being corrected, build its paths
 * again without the sequential scan: add_path has already pruned the index
 * paths a cheaper Seq Scan dominated, so they are made anew (index, bitmap
 * and TID paths, as set_plain_rel_pathlist makes them).  A relation with
 * no other way in keeps its Seq Scan, and the correction then fails.
 */
static void
guard_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
					   RangeTblEntry *rte)
{
	if (prev_set_rel_pathlist)
		prev_set_rel_pathlist(root, rel, rti, rte);

	if (correcting_n > 0 && planner_depth == correcting_depth &&
		rte->rtekind == RTE_RELATION && !rte->inh && rte->tablesample == NULL &&
		(rte->relkind == RELKIND_RELATION || rte->relkind == RELKIND_MATVIEW) &&
		correcting_rel(root, rel, rte))
	{
		List	   *old_paths = rel->pathlist;
		List	   *old_partial = rel->partial_pathlist;

		ListCell   *lc;
		bool		usable = false;

		rel->pathlist = NIL;
		rel->partial_pathlist = NIL;
		create_index_paths(root, rel);
		create_tidscan_paths(root, rel);

		/*
		 * Only parameterized paths left (the join order may not be able to
		 * feed them: "could not devise a query plan"), or none: keep the
		 * Seq Scan, and the correction fails as it should.
		 */
		foreach(lc, rel->pathlist)
			if (PATH_REQ_OUTER((Path *) lfirst(lc)) == NULL)
				usable = true;
		if (!usable)
		{
			rel->pathlist = old_paths;
			rel->partial_pathlist = old_partial;
		}
	}
}

/* Plan once and fingerprint the result (fail-open). */
static PlannedStmt *
plan_and_fingerprint(PrePlan *pre, Query *parse, const char *query_string,
					 int cursorOptions, ParamListInfo boundParams,
					 GuardFingerprint *fp, GuardVerdict *verdict)
{
	PlannedStmt *result;
	PlanningSizes ps;
	MemoryContext cxt = CurrentMemoryContext;

	ps.sizes = ps.inline_sizes;
	ps.n = 0;
	ps.max = INLINE_SIZES;
	fp->flags = 0;
	verdict->nregressed = 0;
	result = run_planner(parse, query_string, cursorOptions, boundParams, &ps);

	if (pre->ok)
	{
		PG_TRY();
		{
			fingerprint_plan(pre, query_string, boundParams, result, &ps, fp, verdict);
		}
		PG_CATCH();
		{
			guard_fail_open("fingerprint a plan", cxt);
			fp->flags = 0;
			verdict->nregressed = 0;
		}
		PG_END_TRY();
	}

	if (ps.sizes != ps.inline_sizes && ps.sizes != NULL)
		pfree(ps.sizes);
	return result;
}

/*
 * try_correct: re-plan a plan_regression with sequential scans of the
 * regressed relations removed.  Returns the new plan if guard's baseline
 * approves it, else NULL.  The correcting state is restored whatever
 * happens.  Records the incident (action corrected) on success.
 */
static pg_noinline PlannedStmt *
try_correct(PrePlan *pre, Query *copy, const char *query_string, int cursorOptions,
			ParamListInfo boundParams, const GuardFingerprint *bad,
			const GuardVerdict *bad_verdict)
{
	PlannedStmt *result;
	GuardFingerprint fp;
	GuardVerdict verdict;
	Oid		   *saved_relids = correcting_relids;
	int			saved_n = correcting_n;
	int			saved_depth = correcting_depth;
	set_rel_pathlist_hook_type saved_pathlist_hook;
	set_rel_pathlist_hook_type saved_prev;
	PrePlan		pre2 = *pre;

	pre2.extra_flags = GUARD_FP_CORRECTED;
	correcting_relids = (Oid *) bad_verdict->regressed_relids;
	correcting_n = bad_verdict->nregressed;
	correcting_depth = planner_depth + 1;	/* run_planner's level */

	/*
	 * The set_rel_pathlist hook is guard's only while it corrects: every
	 * other planning pays nothing for it.
	 */
	saved_pathlist_hook = set_rel_pathlist_hook;
	saved_prev = prev_set_rel_pathlist;
	if (set_rel_pathlist_hook != guard_set_rel_pathlist)	/* not nested */
	{
		prev_set_rel_pathlist = set_rel_pathlist_hook;
		set_rel_pathlist_hook = guard_set_rel_pathlist;
	}
	PG_TRY();
	{
		result = plan_and_fingerprint(&pre2, copy, query_string, cursorOptions,
									  boundParams, &fp, &verdict);
	}
	PG_FINALLY();
	{
		set_rel_pathlist_hook = saved_pathlist_hook;
		prev_set_rel_pathlist = saved_prev;
		correcting_relids = saved_relids;
		correcting_n = saved_n;
		correcting_depth = saved_depth;
	}
	PG_END_TRY();

	if ((fp.flags & GUARD_FP_VALID) == 0 ||
		guard_baseline_status(fp.query_hash, fp.plan_hash) != GUARD_STATUS_APPROVED)
		return NULL;

	if (!guard_suppress_recording)
	{
		GuardOccurrence occ;
		MemoryContext cxt = CurrentMemoryContext;

		PG_TRY();
		{
			memset(&occ, 0, sizeof(occ));
			occ.query_hash = bad->query_hash;
			occ.plan_hash = bad->plan_hash;
			occ.reason = GUARD_REASON_PLAN_REGRESSION;
			occ.action = GUARD_ACTION_CORRECTED;
			occ.would_action = GUARD_ACTION_CORRECTED;
			occ.relation = bad_verdict->regressed;
			occ.relation_rows = bad_verdict->regressed_rows;
			occ.baseline_query_hash = fp.query_hash;
			occ.baseline_plan_hash = fp.plan_hash;
			occ.clause = pre->andor ? guard_lint_recall(pre->query_hash) : NULL;
			occ.query = guard_statement_text(query_string, copy->stmt_location,
											 copy->stmt_len);
			occ.plan = "(replaced by its approved plan; see guard.plans)";
			if (!guard_incident_seen(MyDatabaseId, &occ, GetCurrentStatementStartTimestamp()))
				guard_incident_record(MyDatabaseId, GetUserId(), &occ,
									  GetCurrentStatementStartTimestamp());
		}
		PG_CATCH();
		{
			guard_fail_open("record a corrected plan", cxt);
		}
		PG_END_TRY();
	}
	return result;
}

static PlannedStmt *
guard_planner(Query *parse, const char *query_string, int cursorOptions,
			  ParamListInfo boundParams)
{
	PlannedStmt *result;
	PrePlan		pre;
	MemoryContext cxt = CurrentMemoryContext;
	GuardFingerprint fp;
	GuardVerdict verdict;
	Query	   *copy = NULL;

	/* a nested planning guard does not follow must not feed the outer one */
	if (!guard_active() || IsParallelWorker())
		return run_planner(parse, query_string, cursorOptions, boundParams, NULL);

	memset(&pre, 0, sizeof(pre));
	PG_TRY();
	{
		pre.query_hash = guard_query_hash(parse, &pre.has_params,
										  &pre.const_locs, &pre.nconsts,
										  &pre.maybe_andor);
		pre.queryid = parse->queryId;
		if (pre.maybe_andor)
		{
			char	   *clause = guard_lint_andor(parse, query_string);

			if (clause != NULL)
			{
				pre.andor = true;
				guard_lint_remember(pre.query_hash, clause);
			}
		}
		pre.ok = true;

		/*
		 * guard.correct may need to plan the statement again, and the
		 * planner scribbles on its input: keep a copy, but only for
		 * statements with an approved plan (the only ones that can regress).
		 */
		if (guard_correct && !guard_baseline_is_empty() &&
			guard_baseline_has_approved(pre.query_hash))
			copy = copyObject(parse);
	}
	PG_CATCH();
	{
		guard_fail_open("fingerprint a statement", cxt);
	}
	PG_END_TRY();

	result = plan_and_fingerprint(&pre, parse, query_string, cursorOptions,
								  boundParams, &fp, &verdict);

	if (copy != NULL && (fp.flags & GUARD_FP_FLAGGED) &&
		(fp.flags & GUARD_FP_REASONS) == GUARD_FP_PLAN_REGRESSION &&
		verdict.nregressed > 0)
	{
		PlannedStmt *corrected = try_correct(&pre, copy, query_string, cursorOptions,
											 boundParams, &fp, &verdict);

		if (corrected != NULL)
			result = corrected;
	}
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

/* What guard.mode = block does with a plan of these flags */
static GuardAction
block_action(uint32 flags)
{
	if ((flags & GUARD_FP_FLAGGED) == 0)
		return GUARD_ACTION_WARNED;		/* the lint alone only warns */
	if (guard_flagged_max_concurrency > 0 && (flags & GUARD_FP_REJECTED) == 0)
		return GUARD_ACTION_THROTTLED;
	return GUARD_ACTION_BLOCKED;
}

/* What the current guard.mode does with a plan of these flags */
static GuardAction
mode_action(uint32 flags)
{
	if (guard_mode == GUARD_MODE_BLOCK)
		return block_action(flags);
	if (guard_mode == GUARD_MODE_WARN)
		return GUARD_ACTION_WARNED;
	return GUARD_ACTION_LOGGED;
}

/* The facts about a flagged plan, recomputed at execution (rare path) */
typedef struct FlaggedFacts
{
	GuardVerdict verdict;
	const char *clause;			/* lint finding, or NULL */
	char	   *reasons;		/* "new_seqscan, andor_precedence" */
	char	   *shape;
	GuardAction action;
	GuardAction would;
} FlaggedFacts;

static void
flagged_facts(PlannedStmt *pstmt, const GuardFingerprint *fp, FlaggedFacts *ff,
			  bool with_shape)
{
	GuardSeqScan *seqscans;
	int			n;
	List	   *names = guard_reason_names(fp->flags & (GUARD_FP_REASONS | GUARD_FP_ANDOR));
	StringInfoData buf;
	ListCell   *lc;

	memset(ff, 0, sizeof(*ff));
	if (fp->flags & GUARD_FP_FLAGGED)
	{
		n = guard_plan_seqscans(pstmt, NULL, 0, &seqscans);
		guard_policy_evaluate(fp->query_hash, fp->plan_hash, seqscans, n, &ff->verdict);
	}
	if (fp->flags & GUARD_FP_ANDOR)
		ff->clause = guard_lint_recall(fp->query_hash);
	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", (char *) lfirst(lc));
	ff->reasons = buf.data;
	ff->shape = with_shape ? guard_plan_shape(pstmt) : NULL;
	ff->action = mode_action(fp->flags);
	ff->would = block_action(fp->flags);
}

/* Record one occurrence of each of the plan's reasons as incidents. */
static void
record_incidents(QueryDesc *queryDesc, const GuardFingerprint *fp, FlaggedFacts *ff)
{
	static const struct
	{
		uint32		flag;
		GuardReason reason;
	}			reasons[] = {
		{GUARD_FP_NEW_SEQSCAN, GUARD_REASON_NEW_SEQSCAN},
		{GUARD_FP_PLAN_REGRESSION, GUARD_REASON_PLAN_REGRESSION},
		{GUARD_FP_REJECTED, GUARD_REASON_REJECTED_PLAN},
		{GUARD_FP_ANDOR, GUARD_REASON_ANDOR_PRECEDENCE},
	};
	TimestampTz now = GetCurrentStatementStartTimestamp();
	char	   *query = NULL;
	bool		normalized = false;
	int			i;

	for (i = 0; i < lengthof(reasons); i++)
	{
		GuardOccurrence occ;

		if ((fp->flags & reasons[i].flag) == 0)
			continue;
		/* once the DBA rejected the plan, that is the only news */
		if ((fp->flags & GUARD_FP_REJECTED) &&
			(reasons[i].flag & (GUARD_FP_NEW_SEQSCAN | GUARD_FP_PLAN_REGRESSION)))
			continue;
		memset(&occ, 0, sizeof(occ));
		occ.query_hash = fp->query_hash;
		occ.plan_hash = fp->plan_hash;
		occ.reason = reasons[i].reason;
		occ.action = ff->action;
		occ.would_action = ff->would;
		occ.clause = ff->clause;
		if (reasons[i].flag == GUARD_FP_PLAN_REGRESSION)
		{
			occ.relation = ff->verdict.regressed;
			occ.relation_rows = ff->verdict.regressed_rows;
		}
		else if (reasons[i].flag == GUARD_FP_NEW_SEQSCAN)
		{
			occ.relation = ff->verdict.relation;
			occ.relation_rows = ff->verdict.relation_rows;
		}
		/* for a regression, the approved plan that used an index on it */
		occ.baseline_plan_hash =
			guard_baseline_approved_plan(fp->query_hash,
										 reasons[i].flag == GUARD_FP_PLAN_REGRESSION ?
										 occ.relation : NULL);
		if (occ.baseline_plan_hash != 0)
			occ.baseline_query_hash = fp->query_hash;
		if (guard_incident_seen(MyDatabaseId, &occ, now))
			continue;

		/* new: its texts, the query as stored (normalized) if possible */
		if (query == NULL)
		{
			GuardPlanRow row;

			if (guard_store_get(MyDatabaseId, fp->query_hash, fp->plan_hash, &row) &&
				row.query != NULL)
			{
				query = row.query;
				normalized = true;
			}
			else
				query = guard_statement_text(queryDesc->sourceText,
											 queryDesc->plannedstmt->stmt_location,
											 queryDesc->plannedstmt->stmt_len);
		}
		occ.query = query;

		/*
		 * A statement without an approved plan of its own: is it an approved
		 * statement with its parentheses lost?  Then that is the plan it
		 * replaced.
		 */
		if (occ.baseline_plan_hash == 0 && normalized)
			(void) guard_sibling_baseline(fp->query_hash, query,
										  &occ.baseline_query_hash,
										  &occ.baseline_plan_hash);
		occ.plan = ff->shape;
		guard_incident_record(MyDatabaseId, GetUserId(), &occ, now);
	}
}

/* The HINT of guard's messages about a plan (inside ereport) */
static int
approve_hint(const GuardFingerprint *fp)
{
	return errhint("If this plan is intended, approve it: SELECT guard.approve(%lld, %lld);",
				   (long long) fp->query_hash, (long long) fp->plan_hash);
}

/* The DETAIL of guard's messages about a plan */
static char *
flagged_detail(const GuardFingerprint *fp, const FlaggedFacts *ff)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "Reasons: %s. query_hash %lld, plan_hash %lld",
					 ff->reasons, (long long) fp->query_hash, (long long) fp->plan_hash);
	if (fp->flags & GUARD_FP_ANDOR)
		appendStringInfo(&buf, ". The WHERE clause mixes AND and OR without parentheses; PostgreSQL reads it as: %s",
						 ff->clause ? ff->clause : "(clause not available)");
	appendStringInfo(&buf, ". Plan:\n%s", ff->shape);
	return buf.data;
}

/*
 * handle_flagged: a flagged plan (or one the lint caught) is about to run.
 * Records the incidents, then does what guard.mode says: nothing more
 * (observe), a WARNING (warn), or in block mode an ERROR, or a wait for a
 * limp-mode slot.  Runs before the executor has initialized anything, so a
 * refused statement has no side effects.  The facts are recomputed from the
 * plan: this path is the exception, not the rule.
 */
static pg_noinline void
handle_flagged(QueryDesc *queryDesc, const GuardFingerprint *fp)
{
	FlaggedFacts ff;
	const char *relation;
	double		rows;

	flagged_facts(queryDesc->plannedstmt, fp, &ff, true);
	record_incidents(queryDesc, fp, &ff);

	relation = ff.verdict.relation;
	rows = ff.verdict.relation_rows;
	switch (ff.action)
	{
		case GUARD_ACTION_LOGGED:
		case GUARD_ACTION_CORRECTED:
			break;
		case GUARD_ACTION_WARNED:
			if ((fp->flags & GUARD_FP_FLAGGED) == 0)
				ereport(WARNING,
						(errcode(ERRCODE_GUARD_ANDOR),
						 errmsg("WHERE clause mixes AND and OR without parentheses"),
						 errdetail("PostgreSQL reads it as: %s. query_hash %lld.",
								   ff.clause ? ff.clause : "(clause not available)",
								   (long long) fp->query_hash),
						 errhint("AND binds tighter than OR: add parentheses to say which grouping you mean.")));
			else if (relation)
				ereport(WARNING,
						(errcode(ERRCODE_GUARD_BLOCKED),
						 errmsg("plan sequentially scans %s (about %.0f rows); guard.mode = block would %s it",
								relation, rows,
								ff.would == GUARD_ACTION_THROTTLED ? "throttle" : "stop"),
						 errdetail_internal("%s", flagged_detail(fp, &ff)),
						 approve_hint(fp)));
			else
				ereport(WARNING,
						(errcode(ERRCODE_GUARD_BLOCKED),
						 errmsg("plan was rejected; guard.mode = block would stop it"),
						 errdetail_internal("%s", flagged_detail(fp, &ff)),
						 approve_hint(fp)));
			break;
		case GUARD_ACTION_THROTTLED:
			if (!guard_throttle_enter(queryDesc))
				ereport(ERROR,
						(errcode(ERRCODE_GUARD_THROTTLED),
						 errmsg("guard throttled a plan that sequentially scans %s (about %.0f rows): "
								"%d flagged statements already running, waited %d ms",
								relation ? relation : "?", rows,
								guard_flagged_max_concurrency, guard_flagged_wait_timeout),
						 errdetail_internal("%s", flagged_detail(fp, &ff)),
						 approve_hint(fp)));
			break;
		case GUARD_ACTION_BLOCKED:
			if (relation)
				ereport(ERROR,
						(errcode(ERRCODE_GUARD_BLOCKED),
						 errmsg("guard blocked a plan that sequentially scans %s (about %.0f rows)",
								relation, rows),
						 errdetail_internal("%s", flagged_detail(fp, &ff)),
						 approve_hint(fp)));
			else
				ereport(ERROR,
						(errcode(ERRCODE_GUARD_BLOCKED),
						 errmsg("guard blocked a plan that was rejected"),
						 errdetail_internal("%s", flagged_detail(fp, &ff)),
						 approve_hint(fp)));
			break;
	}
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
		 * A flagged plan: incidents, then the mode decides, at every nesting
		 * level.  guard's own failures fail open; its refusals (QG001,
		 * QG002) are re-thrown by guard_fail_open.
		 */
		if (fp.flags & (GUARD_FP_FLAGGED | GUARD_FP_ANDOR))
		{
			MemoryContext cxt = CurrentMemoryContext;

			PG_TRY();
			{
				handle_flagged(queryDesc, &fp);
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

/*
 * The verdict line of EXPLAIN (text format): what guard thinks of a plan it
 * flags (or corrected), and what the current mode would do with it.  NULL
 * for plans guard has nothing to say about.
 */
static char *
explain_verdict(PlannedStmt *plan)
{
	GuardFingerprint fp;
	StringInfoData buf;

	if (!guard_fingerprint_get(plan, &fp))
		return NULL;
	initStringInfo(&buf);
	if (fp.flags & GUARD_FP_CORRECTED)
		appendStringInfoString(&buf, "corrected (guard.correct replaced a plan_regression by this approved plan)");
	else if ((fp.flags & (GUARD_FP_FLAGGED | GUARD_FP_ANDOR)) == 0)
		return NULL;			/* nothing to say: EXPLAIN output stays as is */
	else
	{
		FlaggedFacts ff;

		flagged_facts(plan, &fp, &ff, false);
		appendStringInfo(&buf, "%s (%s)",
						 (fp.flags & GUARD_FP_FLAGGED) ? "flagged" : "warning", ff.reasons);
		if (ff.verdict.relation)
			appendStringInfo(&buf, ": sequential scan of %s (about %.0f rows)",
							 ff.verdict.relation, ff.verdict.relation_rows);
		if (fp.flags & GUARD_FP_ANDOR)
			appendStringInfo(&buf, "; WHERE reads as %s",
							 ff.clause ? ff.clause : "(clause not available)");
		appendStringInfo(&buf, "; guard.mode %s: %s",
						 guard_mode == GUARD_MODE_BLOCK ? "block" :
						 guard_mode == GUARD_MODE_WARN ? "warn" : "observe",
						 guard_action_name(ff.action));
	}
	appendStringInfo(&buf, "; query_hash %lld, plan_hash %lld",
					 (long long) fp.query_hash, (long long) fp.plan_hash);
	return buf.data;
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
	char	   *verdict = NULL;

	if (prev_ExplainOneQuery)
	{
		prev_ExplainOneQuery(query, cursorOptions, into, es, queryString,
							 params, queryEnv);
		return;
	}

	if (es->buffers)
		bufusage_start = pgBufferUsage;
	INSTR_TIME_SET_CURRENT(planstart);
	plan = pg_plan_query(query, queryString, cursorOptions, params);
	INSTR_TIME_SET_CURRENT(planduration);
	INSTR_TIME_SUBTRACT(planduration, planstart);
	if (es->buffers)
	{
		memset(&bufusage, 0, sizeof(BufferUsage));
		BufferUsageAccumDiff(&bufusage, &pgBufferUsage, &bufusage_start);
	}

	if (es->format == EXPLAIN_FORMAT_TEXT && guard_explain_verdict && guard_active())
	{
		MemoryContext cxt = CurrentMemoryContext;

		PG_TRY();
		{
			verdict = explain_verdict(plan);
		}
		PG_CATCH();
		{
			guard_fail_open("judge a plan for EXPLAIN", cxt);
		}
		PG_END_TRY();
	}

	ExplainOnePlan(plan, into, es, queryString, params, queryEnv,
				   &planduration, (es->buffers ? &bufusage : NULL));

	if (verdict != NULL)
		ExplainPropertyText("Guard", verdict, es);
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
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = guard_ExecutorEnd;
	prev_ExplainOneQuery = ExplainOneQuery_hook;
	ExplainOneQuery_hook = guard_ExplainOneQuery;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = guard_ProcessUtility;

	guard_namecache_init();
}
