/*-------------------------------------------------------------------------
 *
 * judge.c
 *		The plan-time pipeline: one judgment per plan.
 *
 * For every statement the planner hook hands over (guard_plan):
 *	1. hash the statement (before planning: the planner scribbles on it)
 *	   and run the AND/OR lint if the jumble saw an OR of ANDs;
 *	2. plan it, collecting the planner's own size estimate of every base
 *	   relation (get_relation_info hook -> guard_judge_note_size);
 *	3. hash the plan and judge it: a cheap test first (relations read by
 *	   Seq Scan together under guard.seqscan_min_rows cannot be flagged
 *	   but for rejected_plan), the full rules (policy.c) only past it;
 *	4. attach the fingerprint and, for a flagged plan, the judgment: the
 *	   reasons, the relations with the planner's estimate, the clause and
 *	   the approved plan it replaced;
 *	5. with guard.correct, re-plan a plan_regression without Seq Scans of
 *	   the regressed relations (correct.c) and keep it if it is approved;
 *	6. record a plan new to the store (texts built only then).
 * Steps 1-4 and 6 each fail open on their own: a failure to record, or a
 * lint that gives up, never drops a verdict already made.
 *
 * guard.explain calls guard_plan explicitly with a result to fill: the
 * statement is judged the same way but not recorded.  Statements that
 * functions run while it plans go through the planner hook as usual.
 *
 * Statements planned inside parallel workers (a PARALLEL SAFE function's
 * body) are judged like any other nested statement.
 *
 * IDENTIFICATION
 *		src/judge.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "optimizer/plancat.h"
#include "pgstat.h"
#include "storage/bufpage.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/plancache.h"

#include "baseline.h"
#include "citus.h"
#include "compat.h"
#include "correct.h"
#include "enforce.h"
#include "fingerprint.h"
#include "guard.h"
#include "judge.h"
#include "lint.h"
#include "policy.h"
#include "profile.h"
#include "store.h"

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

/* Depth of plannings in progress (plannings nested in planning) */
static int	planner_depth = 0;

/*
 * A planning failed to judge its plan (guard's own failure): that plan may
 * be cached, unjudged, for as long as the plan cache keeps it.  The next
 * planning resets this backend's plan cache, so it is judged again.
 */
static bool unjudged_plans = false;

/* What guard learns about a statement before planning it */
typedef struct PrePlan
{
	bool		ok;				/* the jumble succeeded */
	uint64		query_hash;
	bool		has_params;
	int		   *const_locs;
	int			nconsts;
	uint64		queryid;
	char	   *clause;			/* the lint's finding, or NULL */
	uint32		extra_flags;	/* GUARD_FP_CORRECTED */
	int			locs_buf[16];	/* const_locs of most statements */
} PrePlan;

/*
 * The rows a relation's pages can hold, by the widths of its columns: a
 * floor under the planner's estimate.  The planner scales the density
 * measured by the last ANALYZE, and a table analyzed while nearly empty,
 * then filled with autovacuum off (or simply before autovacuum got to it),
 * is estimated at a few rows however many pages it has: its seq scan would
 * never count as large.  The bytes on disk cannot be steered that way.
 *
 * Only relations whose estimate is under guard.seqscan_min_rows and whose
 * pages could hold that many rows at all (MaxHeapTuplesPerPage per page)
 * get here; their average row width is cached per backend and forgotten
 * with the relation's relcache entry.  The live rows of the cumulative
 * statistics are a second floor (below).
 */
#define WIDTH_SLOTS 64

typedef struct WidthSlot
{
	Oid			relid;
	int32		width;
} WidthSlot;

static WidthSlot width_slots[WIDTH_SLOTS];

void
guard_judge_relcache_inval(Oid relid)
{
	int			i;

	for (i = 0; i < WIDTH_SLOTS; i++)
		if (!OidIsValid(relid) || width_slots[i].relid == relid)
			width_slots[i].relid = InvalidOid;
}

static double
rows_by_width(Oid relid, double tuples, BlockNumber pages)
{
	WidthSlot  *slot;
	double		density;

	if (tuples >= (double) guard_seqscan_min_rows ||
		(double) pages * MaxHeapTuplesPerPage < (double) guard_seqscan_min_rows)
		return tuples;
	slot = &width_slots[relid % WIDTH_SLOTS];
	if (slot->relid != relid)
	{
		slot->width = get_relation_data_width(relid, NULL);
		slot->relid = relid;
	}
	/* as estimate_rel_size does for a relation never analyzed */
	density = (double) (BLCKSZ - SizeOfPageHeaderData) /
		(double) (Max(slot->width, 1) + MAXALIGN(SizeofHeapTupleHeader) + sizeof(ItemIdData));
	tuples = Max(tuples, floor(density * pages));

	/*
	 * Widths come from statistics and declared types, which the table's
	 * owner controls too (ANALYZE fat rows, then replace them by thin
	 * ones; declare wide columns and store narrow values).  The live rows
	 * the cumulative statistics count cannot be lowered without deleting
	 * rows: they are a floor as well.
	 */
	if (tuples < (double) guard_seqscan_min_rows)
	{
		PgStat_StatTabEntry *tabentry = pgstat_fetch_stat_tabentry(relid);

		if (tabentry != NULL)
			tuples = Max(tuples, (double) GUARD_LIVE_TUPLES(tabentry));
	}
	return tuples;
}

/*
 * guard_judge_note_size: the get_relation_info hook's report of a base
 * relation's estimated size, for the planning guard follows (if any).
 */
void
guard_judge_note_size(Oid relid, double tuples, BlockNumber pages)
{
	PlanningSizes *ps = current_sizes;
	int			nshards;

	if (ps == NULL)
		return;
	/* a Citus shard is a slice: the table counts whole (citus.c) */
	if (OidIsValid(guard_citus_shard_owner(relid, &nshards)) && nshards > 1)
	{
		tuples *= nshards;
		pages = (BlockNumber) Min((double) pages * nshards, (double) MaxBlockNumber);
	}
	if (ps->n >= ps->max)
	{
		GuardRelSize *bigger = palloc(ps->max * 2 * sizeof(GuardRelSize));

		memcpy(bigger, ps->sizes, ps->n * sizeof(GuardRelSize));
		if (ps->sizes != ps->inline_sizes)
			pfree(ps->sizes);
		ps->sizes = bigger;
		ps->max *= 2;
	}
	ps->sizes[ps->n].relid = relid;
	ps->sizes[ps->n].tuples = rows_by_width(relid, tuples, pages);
	ps->n++;
}

/*
 * Call the next planner with ps (NULL: this planning is not followed)
 * receiving the relation sizes, one level deeper.  No PG_TRY on this path
 * (every planning takes it): if the planner fails, the (sub)transaction
 * abort restores both (guard_judge_restore_state, called by hooks.c's
 * abort callbacks), before any other planning can happen.
 */
static PlannedStmt *
run_planner(GuardPlannerFn next, Query *parse, const char *query_string,
			int cursorOptions, ParamListInfo boundParams, PlanningSizes *ps)
{
	PlannedStmt *result;
	PlanningSizes *saved_sizes = current_sizes;

	current_sizes = ps;
	planner_depth++;
	result = next(parse, query_string, cursorOptions, boundParams);
	current_sizes = saved_sizes;
	planner_depth--;
	return result;
}

/* guard_judge_save_state: the planning state, at a subtransaction's start */
void
guard_judge_save_state(GuardPlanningState *state)
{
	state->depth = planner_depth;
	state->sizes = current_sizes;
}

/*
 * guard_judge_restore_state: back to a saved planning state when a
 * subtransaction aborts; NULL (a transaction aborts): no planning.
 */
void
guard_judge_restore_state(const GuardPlanningState *state)
{
	planner_depth = state ? state->depth : 0;
	current_sizes = state ? (PlanningSizes *) state->sizes : NULL;
}

/* =====================================================================
 * The judgment inside the plan
 * =====================================================================
 */
#define JUDGMENT_FORMAT 1

static void
put_string(StringInfo buf, const char *s)
{
	if (s == NULL)
		appendStringInfoChar(buf, '\0');
	else
	{
		appendStringInfoChar(buf, '\1');
		appendBinaryStringInfo(buf, s, strlen(s) + 1);
	}
}

static bool
get_string(const char **p, const char *end, const char **s)
{
	const char *nul;

	if (*p >= end)
		return false;
	if (**p == '\0')
	{
		*s = NULL;
		(*p)++;
		return true;
	}
	(*p)++;
	nul = memchr(*p, '\0', end - *p);
	if (nul == NULL)
		return false;
	*s = *p;
	*p = nul + 1;
	return true;
}

/* Attach j to the plan (before the fingerprint: see fingerprint.c). */
static void
judgment_attach(PlannedStmt *pstmt, const GuardJudgment *j)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, JUDGMENT_FORMAT);
	appendBinaryStringInfo(&buf, (const char *) &j->reasons, sizeof(j->reasons));
	appendBinaryStringInfo(&buf, (const char *) &j->seqscan_rows, sizeof(double));
	appendBinaryStringInfo(&buf, (const char *) &j->regressed_rows, sizeof(double));
	appendBinaryStringInfo(&buf, (const char *) &j->baseline_query_hash, sizeof(uint64));
	appendBinaryStringInfo(&buf, (const char *) &j->baseline_plan_hash, sizeof(uint64));
	put_string(&buf, j->seqscan_rel);
	put_string(&buf, j->regressed_rel);
	put_string(&buf, j->clause);
	guard_carrier_attach(pstmt, buf.data, buf.len);
	pfree(buf.data);
}

/*
 * guard_judgment_get: the judgment made when the plan was made.  Returns
 * false (and an empty judgment holding only fp's reasons) if the plan
 * carries none.  The strings point into palloc'd memory.
 */
bool
guard_judgment_get(PlannedStmt *pstmt, const GuardFingerprint *fp,
				   GuardJudgment *j)
{
	int			len;
	char	   *data;
	const char *p;
	const char *end;
	const Size	fixed = 1 + sizeof(uint32) + 2 * sizeof(double) + 2 * sizeof(uint64);

	memset(j, 0, sizeof(*j));
	j->reasons = fp->flags & (GUARD_FP_REASONS | GUARD_FP_ANDOR);
	if ((fp->flags & GUARD_FP_JUDGED) == 0)
		return false;
	data = guard_carrier_get(pstmt, &len);
	if (data == NULL || len < fixed || data[0] != JUDGMENT_FORMAT)
		return false;
	p = data + 1;
	end = data + len;
	memcpy(&j->reasons, p, sizeof(uint32));
	p += sizeof(uint32);
	memcpy(&j->seqscan_rows, p, sizeof(double));
	p += sizeof(double);
	memcpy(&j->regressed_rows, p, sizeof(double));
	p += sizeof(double);
	memcpy(&j->baseline_query_hash, p, sizeof(uint64));
	p += sizeof(uint64);
	memcpy(&j->baseline_plan_hash, p, sizeof(uint64));
	p += sizeof(uint64);
	if (!get_string(&p, end, &j->seqscan_rel) ||
		!get_string(&p, end, &j->regressed_rel) ||
		!get_string(&p, end, &j->clause))
	{
		memset(j, 0, sizeof(*j));
		j->reasons = fp->flags & (GUARD_FP_REASONS | GUARD_FP_ANDOR);
		return false;
	}
	return true;
}

/* =====================================================================
 * Judging
 * =====================================================================
 */

/*
 * The approved plan a flagged plan replaced: for a regression, the
 * approved plan that reached the relation through an index; else any
 * approved plan of the statement; else, for a statement new to the
 * baseline, the approved plan of a statement whose text differs only in
 * parentheses (the lost-parentheses release).
 */
static void
replaced_plan(PrePlan *pre, const char *query_string, PlannedStmt *pstmt,
			  GuardJudgment *j)
{
	j->baseline_plan_hash = guard_baseline_approved_plan(pre->query_hash,
														 j->regressed_rel);
	if (j->baseline_plan_hash != 0)
	{
		j->baseline_query_hash = pre->query_hash;
		return;
	}

	/*
	 * The lost-parentheses sibling: only for a clause the lint caught (the
	 * search compares texts across the store), and its own failure costs
	 * the judgment nothing but this field: the text work below lexes what
	 * the client wrote.
	 */
	if (pre->clause != NULL && (pre->const_locs != NULL || pre->nconsts == 0))
	{
		MemoryContext cxt = CurrentMemoryContext;

		PG_TRY();
		{
			char	   *query = guard_normalize_query(query_string,
													  pstmt->stmt_location,
													  pstmt->stmt_len,
													  pre->const_locs,
													  pre->nconsts);

			(void) guard_sibling_baseline(pre->query_hash, query,
										  &j->baseline_query_hash,
										  &j->baseline_plan_hash);
		}
		PG_CATCH();
		{
			guard_fail_open("find the plan a statement replaced", GUARD_VERDICT_KEPT, cxt);
			j->baseline_query_hash = 0;
			j->baseline_plan_hash = 0;
		}
		PG_END_TRY();
	}
}

/*
 * foreign_decision: a flagged plan without a decision under the fingerprint
 * rules in force may have one made under other rules (guard.fingerprint_rules
 * changed and guard.rekey has not carried it yet): the same statement text,
 * up to the numbering of its $n, planned to the same shape (baseline.c).
 * An approval clears the flags, a rejection sets its reason.  Costs the
 * texts the store would build, only on this rare path; a failure keeps the
 * verdict.
 */
static pg_noinline void
foreign_decision(PrePlan *pre, const char *query_string, PlannedStmt *pstmt,
				 GuardFingerprint *fp, GuardJudgment *j)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile GuardStatus status = GUARD_STATUS_NEW;

	/* without the constants' locations the text cannot be normalized */
	if (pre->const_locs == NULL && pre->nconsts > 0)
		return;

	PG_TRY();
	{
		char	   *query;
		char	   *shape;
		bool		consistent;

		/*
		 * The texts exactly as record_plan stores them, and only if the
		 * text lexes now as it was parsed: else it is not this statement's.
		 */
		query = guard_normalize_query_checked(query_string, pstmt->stmt_location,
											  pstmt->stmt_len, pre->const_locs,
											  pre->nconsts, &consistent);
		if (consistent)
		{
			shape = guard_plan_shape(pstmt);
			shape = guard_clip_text(shape, strlen(shape));
			status = guard_baseline_foreign_status(query, shape);
			pfree(shape);
		}
		pfree(query);
	}
	PG_CATCH();
	{
		guard_fail_open("match a decision made under other fingerprint rules",
						"The plan is judged as a plan without a decision.", cxt);
		status = GUARD_STATUS_NEW;
	}
	PG_END_TRY();

	if (status == GUARD_STATUS_APPROVED)
	{
		fp->flags &= ~(GUARD_FP_FLAGGED | GUARD_FP_REASONS | GUARD_FP_ANDOR);
		fp->flags |= GUARD_FP_FOREIGN;
		memset(j, 0, sizeof(*j));
	}
	else if (status == GUARD_STATUS_REJECTED)
		fp->flags |= GUARD_FP_FLAGGED | GUARD_FP_REJECTED | GUARD_FP_FOREIGN;
}

/*
 * judge_seqscans: the full rules, for a plan with a large sequential scan
 * (out of line: most plans never get here).  Fills j and the relids of the
 * regressed relations (for correction); returns the reason flags.
 */
static pg_noinline uint32
judge_seqscans(const GuardFingerprint *fp, PlannedStmt *pstmt, PlanningSizes *ps,
			   GuardJudgment *j, GuardVerdict *verdict, GuardPlanResult *result)
{
	GuardSeqScan *seqscans = NULL;
	int			n;

	n = guard_plan_seqscans(pstmt, ps->sizes, ps->n, &seqscans);
	guard_policy_evaluate(fp->query_hash, fp->plan_hash, seqscans, n, verdict);
	if (result)
	{
		result->seqscans = seqscans;
		result->nseqscans = n;
	}
	j->seqscan_rel = verdict->relation;
	j->seqscan_rows = verdict->relation_rows;
	if (verdict->reasons & GUARD_FP_PLAN_REGRESSION)
	{
		j->regressed_rel = verdict->regressed;
		j->regressed_rows = verdict->regressed_rows;
		/* the new_seqscan relation, if any, is another one */
		if (!(verdict->reasons & GUARD_FP_NEW_SEQSCAN))
			j->seqscan_rel = NULL;
	}
	return verdict->flagged ? (GUARD_FP_FLAGGED | verdict->reasons) : 0;
}

/*
 * judge_plan: hash the finished plan, judge it, attach fingerprint and
 * judgment.  Pure with respect to shared state: records nothing.
 */
static void
judge_plan(PrePlan *pre, const char *query_string, ParamListInfo boundParams,
		   PlannedStmt *pstmt, PlanningSizes *ps, GuardFingerprint *fp,
		   GuardJudgment *j, GuardVerdict *verdict, GuardPlanResult *result)
{
	List	   *seqscanned;
	double		seqscanned_rows = 0;
	ListCell   *lc;

	if (guard_debug_fault == GUARD_FAULT_FINGERPRINT)
		elog(ERROR, "injected fault in fingerprinting (guard.debug_fault)");

	memset(fp, 0, sizeof(*fp));
	memset(j, 0, sizeof(*j));
	verdict->nregressed = 0;
	fp->query_hash = pre->query_hash;
	fp->plan_hash = guard_plan_hash(pstmt, &seqscanned);
	fp->queryid = pre->queryid;
	fp->flags = pre->extra_flags;
	if (boundParams != NULL && boundParams->numParams > 0)
		fp->flags |= GUARD_FP_CUSTOM;
	else if (pre->has_params)
		fp->flags |= GUARD_FP_GENERIC;

	/*
	 * The cheap test: if all the relations read by sequential scan
	 * together stay under guard.seqscan_min_rows, no seq-scan rule can
	 * fire and only rejected_plan is left, one probe of the cached
	 * baseline (none when it rejects nothing).
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
	if (seqscanned_rows >= (double) guard_seqscan_min_rows || result != NULL)
		fp->flags |= judge_seqscans(fp, pstmt, ps, j, verdict, result);
	else if (!guard_baseline_no_rejected() &&
			 guard_baseline_status(fp->query_hash, fp->plan_hash) == GUARD_STATUS_REJECTED)
		fp->flags |= GUARD_FP_FLAGGED | GUARD_FP_REJECTED;	/* the only rule left */

	/*
	 * The lint's finding, unless the DBA approved this plan: a clause
	 * written that way on purpose is acknowledged by approving the plan.
	 */
	if (pre->clause != NULL &&
		guard_baseline_status(fp->query_hash, fp->plan_hash) != GUARD_STATUS_APPROVED)
	{
		fp->flags |= GUARD_FP_ANDOR;
		j->clause = pre->clause;
	}

	/* decisions made under other fingerprint rules, by their texts */
	if ((fp->flags & (GUARD_FP_FLAGGED | GUARD_FP_ANDOR)) &&
		(fp->flags & GUARD_FP_REJECTED) == 0 &&
		guard_baseline_has_foreign() &&
		guard_baseline_status(fp->query_hash, fp->plan_hash) == GUARD_STATUS_NEW)
		foreign_decision(pre, query_string, pstmt, fp, j);
	j->reasons = fp->flags & (GUARD_FP_REASONS | GUARD_FP_ANDOR);

	/* the rare path: a flagged plan carries its judgment */
	if (fp->flags & (GUARD_FP_FLAGGED | GUARD_FP_ANDOR))
	{
		replaced_plan(pre, query_string, pstmt, j);
		judgment_attach(pstmt, j);
		fp->flags |= GUARD_FP_JUDGED;
	}
	guard_fingerprint_attach(pstmt, fp);
	fp->flags |= GUARD_FP_VALID;
}

/* Add a plan new to the store, with its texts (built only then). */
static void
record_plan(PrePlan *pre, const char *query_string, PlannedStmt *pstmt,
			PlanningSizes *ps, const GuardFingerprint *fp)
{
	GuardPlanTexts *texts;

	if (guard_store_known(MyDatabaseId, fp))
		return;
	texts = palloc0(sizeof(GuardPlanTexts));
	if (pre->const_locs != NULL || pre->nconsts == 0)
		texts->query = guard_normalize_query(query_string, pstmt->stmt_location,
											 pstmt->stmt_len, pre->const_locs,
											 pre->nconsts);
	else
		texts->query = guard_statement_text(query_string, pstmt->stmt_location,
											pstmt->stmt_len);
	texts->plan = guard_plan_shape(pstmt);
	texts->plan = guard_clip_text(texts->plan, strlen(texts->plan));
	texts->nseqscans = guard_plan_seqscans(pstmt, ps->sizes, ps->n, &texts->seqscans);
	guard_store_add(MyDatabaseId, GetUserId(), fp, texts);
}

/*
 * Plan once, judge, and record if asked.  Fails open; fp->flags is 0 if
 * the plan could not be judged.
 */
static PlannedStmt *
plan_and_judge(PrePlan *pre, GuardPlannerFn next, Query *parse,
			   const char *query_string, int cursorOptions,
			   ParamListInfo boundParams, bool record, GuardFingerprint *fp,
			   GuardJudgment *j, GuardVerdict *verdict, GuardPlanResult *result)
{
	PlannedStmt *pstmt;
	PlanningSizes ps;
	MemoryContext cxt = CurrentMemoryContext;
	const char *volatile stage = "fingerprint a plan";

	ps.sizes = ps.inline_sizes;
	ps.n = 0;
	ps.max = INLINE_SIZES;
	pstmt = run_planner(next, parse, query_string, cursorOptions, boundParams, &ps);
	/* planned with the statistics profile in force: guard.plans says so */
	if (guard_stats_profile && guard_profile_in_force())
		pre->extra_flags |= GUARD_FP_PROFILE;

	if (!pre->ok)
	{
		memset(fp, 0, sizeof(*fp));
		memset(j, 0, sizeof(*j));
		verdict->nregressed = 0;
		return pstmt;
	}

	/*
	 * One PG_TRY for both steps (it is on every planning's path).  The
	 * judgment is attached to the plan before recording starts, so a
	 * failure to record leaves the verdict in place.
	 */
	PG_TRY();
	{
		judge_plan(pre, query_string, boundParams, pstmt, &ps, fp, j, verdict, result);
		stage = "record a plan";
		if (record)
			record_plan(pre, query_string, pstmt, &ps, fp);
	}
	PG_CATCH();
	{
		bool		recording = (strcmp(stage, "record a plan") == 0);

		guard_fail_open(stage, recording ? GUARD_VERDICT_KEPT : NULL, cxt);
		if (!recording)
		{
			fp->flags = 0;
			verdict->nregressed = 0;
			unjudged_plans = true;
		}
	}
	PG_END_TRY();

	if (ps.sizes != ps.inline_sizes)
		pfree(ps.sizes);
	return pstmt;
}

/*
 * try_correct: re-plan a plan_regression with sequential scans of the
 * regressed relations removed.  Returns the new plan if the baseline
 * approves it, else NULL; then records the incident (action corrected).
 */
static pg_noinline PlannedStmt *
try_correct(PrePlan *pre, GuardPlannerFn next, Query *copy,
			const char *query_string, int cursorOptions,
			ParamListInfo boundParams, bool record,
			const GuardFingerprint *bad, const GuardJudgment *bad_judgment,
			const GuardVerdict *bad_verdict)
{
	PlannedStmt *pstmt;
	GuardFingerprint fp;
	GuardJudgment j;
	GuardVerdict verdict;
	GuardCorrectSave save;
	PrePlan		pre2 = *pre;

	pre2.extra_flags = GUARD_FP_CORRECTED;
	guard_correct_begin(bad_verdict->regressed_relids, bad_verdict->nregressed,
						&planner_depth, planner_depth + 1, &save);
	PG_TRY();
	{
		pstmt = plan_and_judge(&pre2, next, copy, query_string, cursorOptions,
							   boundParams, record, &fp, &j, &verdict, NULL);
	}
	PG_FINALLY();
	{
		guard_correct_end(&save);
	}
	PG_END_TRY();

	if ((fp.flags & GUARD_FP_VALID) == 0 ||
		guard_baseline_status(fp.query_hash, fp.plan_hash) != GUARD_STATUS_APPROVED)
		return NULL;
	if (record)
		guard_enforce_corrected(bad, bad_judgment, &fp,
								guard_statement_text(query_string, copy->stmt_location,
													 copy->stmt_len));
	return pstmt;
}

/*
 * The lint, on its own: a statement's text is the attacker's to choose, so
 * a lint that gives up (text too long) or fails leaves every other verdict
 * in place.
 */
static char *
lint_statement(Query *parse, const char *query_string)
{
	MemoryContext cxt = CurrentMemoryContext;
	char	   *clause = NULL;

	PG_TRY();
	{
		clause = guard_lint_andor(parse, query_string);
	}
	PG_CATCH();
	{
		guard_fail_open("check the WHERE clause's parentheses",
						"Every other rule still judges the plan.", cxt);
		clause = NULL;
	}
	PG_END_TRY();
	return clause;
}

/*
 * guard_plan: plan a statement through next and judge the plan.  The
 * planner hook records the plan if guard.track follows its nesting level;
 * guard.explain records nothing and passes a result to fill.
 */
PlannedStmt *
guard_plan(Query *parse, const char *query_string, int cursorOptions,
		   ParamListInfo boundParams, GuardPlannerFn next, bool record,
		   GuardPlanResult *result)
{
	PlannedStmt *pstmt;
	PrePlan		pre;
	MemoryContext cxt = CurrentMemoryContext;
	GuardFingerprint fp;
	GuardJudgment j;
	GuardVerdict verdict;
	Query	   *copy = NULL;
	bool		maybe_andor = false;

	if (unlikely(unjudged_plans))
	{
		unjudged_plans = false;
		ResetPlanCache();
	}

	/* not memset: locs_buf needs no clearing */
	pre.ok = false;
	pre.query_hash = 0;
	pre.has_params = false;
	pre.const_locs = NULL;
	pre.nconsts = 0;
	pre.queryid = 0;
	pre.clause = NULL;
	pre.extra_flags = 0;
	PG_TRY();
	{
		pre.query_hash = guard_query_hash(parse, &pre.has_params,
										  &pre.const_locs, &pre.nconsts,
										  &maybe_andor, pre.locs_buf,
										  lengthof(pre.locs_buf));
		pre.queryid = parse->queryId;
		pre.ok = true;
	}
	PG_CATCH();
	{
		guard_fail_open("fingerprint a statement", NULL, cxt);
		unjudged_plans = true;
	}
	PG_END_TRY();

	if (pre.ok && maybe_andor)
		pre.clause = lint_statement(parse, query_string);

	/*
	 * guard.correct may need to plan the statement again, and the planner
	 * scribbles on its input: keep a copy, but only for statements with an
	 * approved plan (the only ones that can regress).
	 */
	if (pre.ok && guard_correct && !guard_baseline_is_empty() &&
		guard_baseline_has_approved(pre.query_hash))
		copy = copyObject(parse);

	pstmt = plan_and_judge(&pre, next, parse, query_string, cursorOptions,
						   boundParams, record, &fp, &j, &verdict, result);

	if (copy != NULL && (fp.flags & GUARD_FP_FLAGGED) &&
		(fp.flags & GUARD_FP_REASONS) == GUARD_FP_PLAN_REGRESSION &&
		verdict.nregressed > 0)
	{
		PlannedStmt *corrected = try_correct(&pre, next, copy, query_string,
											 cursorOptions, boundParams, record,
											 &fp, &j, &verdict);

		if (corrected != NULL)
		{
			pstmt = corrected;
			if (result)
			{
				(void) guard_fingerprint_get(pstmt, &fp);
				memset(&j, 0, sizeof(j));
			}
		}
	}
	if (result)
	{
		result->fp = fp;
		result->judgment = j;
	}
	return pstmt;
}

/*
 * guard_plan_unjudged: plan without judging (guard is off), making sure
 * the planning does not feed the sizes of an outer one.
 */
PlannedStmt *
guard_plan_unjudged(Query *parse, const char *query_string, int cursorOptions,
					ParamListInfo boundParams, GuardPlannerFn next)
{
	return run_planner(next, parse, query_string, cursorOptions, boundParams, NULL);
}
