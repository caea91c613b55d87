/*-------------------------------------------------------------------------
 *
 * judge.h
 *		The plan-time pipeline (judge.c): hash the statement, plan it,
 *		hash the plan, judge it once, attach fingerprint and judgment to
 *		the plan, correct it if asked, record it.
 *
 * The judgment is made once per plan, with the planner's own row
 * estimates, and travels inside the PlannedStmt (cached plans too).
 * Enforcement, messages, incidents, EXPLAIN and guard.explain all read it
 * back with guard_judgment_get; none of them judges again.
 *
 * Backend-local state only: the sizes the planner estimated for the
 * planning in progress, and the planning depth.  No locks.
 *
 * IDENTIFICATION
 *		src/judge.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_JUDGE_H
#define GUARD_JUDGE_H

#include "storage/block.h"
#include "nodes/params.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"

#include "fingerprint.h"
#include "guard.h"

/* The next planner: the previous planner hook, or standard_planner */
typedef PlannedStmt *(*GuardPlannerFn) (Query *parse, const char *query_string,
										int cursorOptions,
										ParamListInfo boundParams);

/*
 * What guard decided about one plan.  Only flagged plans and plans the
 * lint caught carry one; the strings are NULL when absent.
 */
typedef struct GuardJudgment
{
	uint32		reasons;		/* GUARD_FP_NEW_SEQSCAN | ... | GUARD_FP_ANDOR */
	const char *seqscan_rel;	/* new_seqscan: the first such relation */
	double		seqscan_rows;	/* the planner's row estimate for it */
	const char *regressed_rel;	/* plan_regression: the first such relation */
	double		regressed_rows;
	const char *clause;			/* andor_precedence: the clause as read */
	uint64		baseline_query_hash;	/* the approved plan this one replaced */
	uint64		baseline_plan_hash; /* 0: none known */
} GuardJudgment;

/* What an explicit planning (guard.explain) returns besides the plan */
typedef struct GuardPlanResult
{
	GuardFingerprint fp;		/* flags 0 if guard could not fingerprint */
	GuardJudgment judgment;
	int			nseqscans;		/* every relation read by Seq Scan */
	GuardSeqScan *seqscans;
} GuardPlanResult;

extern PlannedStmt *guard_plan(Query *parse, const char *query_string,
							   int cursorOptions, ParamListInfo boundParams,
							   GuardPlannerFn next, bool record,
							   GuardPlanResult *explicit_result);
extern PlannedStmt *guard_plan_unjudged(Query *parse, const char *query_string,
										int cursorOptions, ParamListInfo boundParams,
										GuardPlannerFn next);
extern void guard_judge_note_size(Oid relid, double tuples, BlockNumber pages);
extern void guard_judge_relcache_inval(Oid relid);

/* The planning in progress, saved and restored around (sub)transaction aborts */
typedef struct GuardPlanningState
{
	int			depth;
	void	   *sizes;
} GuardPlanningState;

extern void guard_judge_save_state(GuardPlanningState *state);
extern void guard_judge_restore_state(const GuardPlanningState *state);
extern bool guard_judgment_get(PlannedStmt *pstmt, const GuardFingerprint *fp,
							   GuardJudgment *judgment);

/* The relation a message names: the first flagged one, or NULL */
static inline const char *
guard_judgment_relation(const GuardJudgment *j, double *rows)
{
	if (j->regressed_rel)
	{
		*rows = j->regressed_rows;
		return j->regressed_rel;
	}
	*rows = j->seqscan_rows;
	return j->seqscan_rel;
}

#endif							/* GUARD_JUDGE_H */
