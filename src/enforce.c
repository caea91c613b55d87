/*-------------------------------------------------------------------------
 *
 * enforce.c
 *		Enforcement: guard.mode -> action, the messages (QG001-QG003), the
 *		incidents of a flagged plan, and the EXPLAIN line.
 *
 * Runs at ExecutorStart, before the standard ExecutorStart, so that a
 * refused statement has no side effects.  Everything it says about a plan
 * comes from the judgment made when the plan was made (judge.c): the
 * reasons, the relation with the planner's estimate, the clause, the plan
 * it replaced.  Nothing here judges again.
 *
 * Enforcement (warn, throttle, block) applies only in databases where the
 * extension is installed: elsewhere guard observes at most, and names no
 * function that does not exist there.  The check reads pg_extension, on
 * the flagged path only.
 *
 * IDENTIFICATION
 *		src/enforce.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/timestamp.h"

#include "baseline.h"
#include "compat.h"
#include "enforce.h"
#include "guard.h"
#include "incidents.h"
#include "judge.h"
#include "store.h"
#include "throttle.h"

/*
 * guard_enforcing_here: is the extension installed in this database?
 * Only then does guard warn, throttle or block here.
 */
bool
guard_enforcing_here(void)
{
	return IsTransactionState() && OidIsValid(get_extension_oid("guard", true));
}

/* What guard.mode = block does with a plan of these flags */
GuardAction
guard_block_action(uint32 flags)
{
	if ((flags & GUARD_FP_FLAGGED) == 0)
		return GUARD_ACTION_WARNED; /* the lint alone only warns */
	if (guard_flagged_max_concurrency > 0 && (flags & GUARD_FP_REJECTED) == 0)
		return GUARD_ACTION_THROTTLED;
	return GUARD_ACTION_BLOCKED;
}

/* What the current guard.mode does with a plan of these flags */
GuardAction
guard_mode_action(uint32 flags)
{
	if (guard_mode == GUARD_MODE_BLOCK)
		return guard_block_action(flags);
	if (guard_mode == GUARD_MODE_WARN)
		return GUARD_ACTION_WARNED;
	return GUARD_ACTION_LOGGED;
}

/* The reasons of a judgment as "new_seqscan, andor_precedence" */
static char *
reasons_text(uint32 reasons)
{
	StringInfoData buf;
	ListCell   *lc;
	List	   *names = guard_reason_names(reasons);

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", (char *) lfirst(lc));
	list_free(names);
	return buf.data;
}

/* Record one occurrence of each of the judgment's reasons as incidents. */
static void
record_incidents(QueryDesc *queryDesc, const GuardFingerprint *fp,
				 const GuardJudgment *j, GuardAction action, GuardAction would,
				 const char *shape)
{
	TimestampTz now = GetCurrentStatementStartTimestamp();
	char	   *query = NULL;
	int			r;

	for (r = 0; r < GUARD_NREASONS; r++)
	{
		GuardOccurrence occ;

		if ((j->reasons & guard_reason_flag((GuardReason) r)) == 0)
			continue;

		/*
		 * One bug, one alarm: a clause that lost its parentheses and the
		 * seq scan it caused are one incident (the seq-scan one, which
		 * carries the clause).  The lint's own incident is for a plan it
		 * alone flags.
		 */
		if (r == GUARD_REASON_ANDOR_PRECEDENCE &&
			(j->reasons & (GUARD_FP_NEW_SEQSCAN | GUARD_FP_PLAN_REGRESSION)))
			continue;
		memset(&occ, 0, sizeof(occ));
		occ.query_hash = fp->query_hash;
		occ.plan_hash = fp->plan_hash;
		occ.reason = (GuardReason) r;
		occ.action = action;
		occ.would_action = would;
		occ.clause = j->clause;
		if (r == GUARD_REASON_PLAN_REGRESSION)
		{
			occ.relation = j->regressed_rel;
			occ.relation_rows = j->regressed_rows;
		}
		else if (r == GUARD_REASON_NEW_SEQSCAN)
		{
			occ.relation = j->seqscan_rel;
			occ.relation_rows = j->seqscan_rows;
		}
		occ.baseline_query_hash = j->baseline_query_hash;
		occ.baseline_plan_hash = j->baseline_plan_hash;
		if (guard_incident_seen(MyDatabaseId, &occ, now))
			continue;

		/*
		 * One bug, one alarm, across protocols: the same statement sent
		 * with literal values and prepared with parameters has two
		 * query_hashes.  If its alias already has this incident, the
		 * occurrence is that incident's (rare path: a new incident).
		 */
		if (!guard_incident_exists(MyDatabaseId, &occ))
		{
			uint64		aliases[4];
			int			n = guard_store_aliases(MyDatabaseId, fp->query_hash,
												fp->plan_hash, aliases,
												lengthof(aliases));
			int			a;

			for (a = 0; a < n; a++)
			{
				occ.query_hash = aliases[a];
				if (guard_incident_exists(MyDatabaseId, &occ))
					break;
			}
			if (a == n)
				occ.query_hash = fp->query_hash;
			else if (guard_incident_seen(MyDatabaseId, &occ, now))
				continue;
		}

		/* new: its texts, the query as stored (normalized) if possible */
		if (query == NULL)
		{
			GuardPlanRow row;

			if (guard_store_get(MyDatabaseId, fp->query_hash, fp->plan_hash, &row) &&
				row.query != NULL)
				query = row.query;
			else
				query = guard_statement_text(queryDesc->sourceText,
											 queryDesc->plannedstmt->stmt_location,
											 queryDesc->plannedstmt->stmt_len);
		}
		occ.query = query;
		if (guard_debug_fault == GUARD_FAULT_INCIDENT)
			elog(ERROR, "injected fault while recording an incident (guard.debug_fault)");
		if (shape == NULL)
			shape = guard_plan_shape(queryDesc->plannedstmt);
		occ.plan = shape;
		guard_incident_record(MyDatabaseId, GetOuterUserId(), &occ, now);
	}
}

/*
 * guard_enforce_corrected: guard.correct replaced the plan bad by the
 * approved plan good: record the incident (action corrected).
 */
void
guard_enforce_corrected(const GuardFingerprint *bad, const GuardJudgment *bad_judgment,
						const GuardFingerprint *good, const char *query)
{
	GuardOccurrence occ;
	TimestampTz now = GetCurrentStatementStartTimestamp();
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		memset(&occ, 0, sizeof(occ));
		occ.query_hash = bad->query_hash;
		occ.plan_hash = bad->plan_hash;
		occ.reason = GUARD_REASON_PLAN_REGRESSION;
		occ.action = GUARD_ACTION_CORRECTED;
		occ.would_action = GUARD_ACTION_CORRECTED;
		occ.relation = bad_judgment->regressed_rel;
		occ.relation_rows = bad_judgment->regressed_rows;
		occ.baseline_query_hash = good->query_hash;
		occ.baseline_plan_hash = good->plan_hash;
		occ.clause = bad_judgment->clause;
		occ.query = query;
		occ.plan = "(replaced by its approved plan; see guard.plans)";
		if (!guard_incident_seen(MyDatabaseId, &occ, now))
			guard_incident_record(MyDatabaseId, GetOuterUserId(), &occ, now);
	}
	PG_CATCH();
	{
		guard_fail_open("record a corrected plan", GUARD_VERDICT_KEPT, cxt);
	}
	PG_END_TRY();
}

/*
 * May the role running the statement approve plans?  Then the HINT gives
 * the call; otherwise it says to ask a DBA.  The role is the one outside
 * any SECURITY DEFINER function (GetOuterUserId), as for incidents: a
 * definer's function run by an application role is the application's
 * statement, charged to its shares and alert quota.
 */
static bool
can_approve(void)
{
	Oid			argtypes[3] = {INT8OID, INT8OID, TEXTOID};
	Oid			func;

	if (superuser_arg(GetOuterUserId()))
		return true;
	func = LookupFuncName(list_make2(makeString("guard"), makeString("approve")),
						  3, argtypes, true);
	return OidIsValid(func) &&
		GuardFunctionAclCheck(func, GetOuterUserId()) == ACLCHECK_OK;
}

/* The HINT of guard's messages about a plan (inside ereport) */
static int
decision_hint(const GuardFingerprint *fp, bool approver)
{
	if ((fp->flags & GUARD_FP_REJECTED) && (fp->flags & GUARD_FP_FOREIGN))
		return errhint("A DBA rejected this plan under other fingerprint rules; its decision is in guard.baseline with the same query and plan texts (guard.rekey() files it under the plan's hashes).");
	if (fp->flags & GUARD_FP_REJECTED)
		return errhint("A DBA rejected this plan; its decision is in guard.baseline.");
	if (approver)
		return errhint("If this plan is intended, approve it: SELECT guard.approve(%lld, %lld);",
					   (long long) fp->query_hash, (long long) fp->plan_hash);
	return errhint("If this plan is intended, ask a DBA to approve it (query_hash %lld, plan_hash %lld).",
				   (long long) fp->query_hash, (long long) fp->plan_hash);
}

/* The DETAIL of guard's messages about a plan: full sentences */
static char *
flagged_detail(const GuardFingerprint *fp, const GuardJudgment *j, const char *shape)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "Reasons: %s. The statement's query_hash is %lld and the plan's plan_hash is %lld.",
					 reasons_text(j->reasons),
					 (long long) fp->query_hash, (long long) fp->plan_hash);
	if (j->reasons & GUARD_FP_ANDOR)
		appendStringInfo(&buf, " The WHERE clause mixes AND and OR without parentheses; PostgreSQL reads it as: %s.",
						 j->clause ? j->clause : "(clause not available)");
	if (shape != NULL)
		appendStringInfo(&buf, " The plan is:\n%s", shape);
	return buf.data;
}

/*
 * handle_flagged: a flagged plan (or one the lint caught) is about to run.
 * Three steps, so that no failure of guard's own turns the verdict off:
 *	1. the facts: the plan's judgment, where guard enforces, the words of
 *	   the message.  If this fails, the mode's action still stands, said
 *	   with fewer words;
 *	2. the record: incidents (a failure costs only the record);
 *	3. the action, outside any catch: nothing more (observe), a WARNING
 *	   (warn), or in block mode an ERROR or a wait for a limp-mode slot.
 *	   The WARNING goes to the client only: the server log's record is the
 *	   incident's LOG line, once per incident, not once per execution.
 * Runs before the executor has initialized anything, so a refused
 * statement has no side effects.
 */
static pg_noinline void
handle_flagged(QueryDesc *queryDesc, const GuardFingerprint *fp)
{
	GuardJudgment j;
	volatile GuardAction action = guard_mode_action(fp->flags);
	GuardAction would = guard_block_action(fp->flags);
	const char *volatile relation = NULL;
	volatile double rows = 0;
	char	   *volatile shape = NULL;
	volatile bool approver = false;
	volatile bool foreign = false;	/* action downgraded: see below */
	volatile GuardAction mode_action = action;
	MemoryContext cxt = CurrentMemoryContext;

	/*
	 * A statement its role may not run at all fails in ExecutorStart with
	 * "permission denied": it gets no incident (an alarm about a table the
	 * role cannot read) and no message naming the table and its size.
	 */
	if (!GuardCheckPermissions(queryDesc->plannedstmt, false))
		return;

	/*
	 * Decisions made under other fingerprint rules without texts match no
	 * plan (judge.c matches the others by their texts): while there are
	 * any, a plan without a decision may be one of them, approved, so it
	 * is not stopped, only warned about.  A rejected plan still is.
	 */
	if ((action == GUARD_ACTION_BLOCKED || action == GUARD_ACTION_THROTTLED) &&
		(fp->flags & GUARD_FP_REJECTED) == 0 &&
		guard_baseline_foreign_unmatchable() > 0)
	{
		action = GUARD_ACTION_WARNED;
		foreign = true;
	}

	memset(&j, 0, sizeof(j));
	j.reasons = fp->flags & (GUARD_FP_REASONS | GUARD_FP_ANDOR);
	PG_TRY();
	{
		double		r;

		(void) guard_judgment_get(queryDesc->plannedstmt, fp, &j);
		relation = guard_judgment_relation(&j, &r);
		rows = r;
		if (action != GUARD_ACTION_LOGGED && !guard_enforcing_here())
			action = GUARD_ACTION_LOGGED;
		if (action != GUARD_ACTION_LOGGED)
		{
			shape = guard_plan_shape(queryDesc->plannedstmt);
			approver = can_approve();
		}
	}
	PG_CATCH();
	{
		guard_fail_open("describe a flagged plan",
						"The plan's verdict still applies.", cxt);
	}
	PG_END_TRY();

	/* a decided plan raises no new alarm for its decision */
	if ((fp->flags & GUARD_FP_REJECTED) == 0)
	{
		PG_TRY();
		{
			record_incidents(queryDesc, fp, &j, action, would, shape);
		}
		PG_CATCH();
		{
			guard_fail_open("record an incident", GUARD_VERDICT_KEPT, cxt);
		}
		PG_END_TRY();
	}

	switch (action)
	{
		case GUARD_ACTION_LOGGED:
		case GUARD_ACTION_CORRECTED:
			break;
		case GUARD_ACTION_WARNED:
			if ((fp->flags & GUARD_FP_FLAGGED) == 0)
				ereport(GUARD_WARNING_CLIENT,
						(errcode(ERRCODE_GUARD_ANDOR),
						 errmsg("WHERE clause mixes AND and OR without parentheses"),
						 errdetail("PostgreSQL reads it as: %s. The statement's query_hash is %lld.",
								   j.clause ? j.clause : "(clause not available)",
								   (long long) fp->query_hash),
						 errhint("AND binds tighter than OR: add parentheses to say which grouping you mean.")));
			else if (foreign)
			{
				/* what block mode would have stopped is no capture's to adopt */
				guard_store_mark_refused(MyDatabaseId, fp);
				ereport(GUARD_WARNING_CLIENT,
						(errcode(ERRCODE_GUARD_BLOCKED),
						 errmsg("plan sequentially scans %s (about %.0f rows); not %s because decisions made under other fingerprint rules without texts may approve it",
								relation ? relation : "a large relation", rows,
								mode_action == GUARD_ACTION_THROTTLED ? "throttled" : "blocked"),
						 errdetail_internal("%s", flagged_detail(fp, &j, shape)),
						 errhint("List them with: SELECT * FROM guard.rekey() WHERE reason = 'no texts to match'; decide the plans they were about again (guard.approve), then remove them with guard.forget(old_query_hash, old_plan_hash).")));
			}
			else if (relation)
				ereport(GUARD_WARNING_CLIENT,
						(errcode(ERRCODE_GUARD_BLOCKED),
						 errmsg("plan sequentially scans %s (about %.0f rows); guard.mode = block would %s it",
								relation, rows,
								would == GUARD_ACTION_THROTTLED ? "throttle" : "stop"),
						 errdetail_internal("%s", flagged_detail(fp, &j, shape)),
						 decision_hint(fp, approver)));
			else
				ereport(GUARD_WARNING_CLIENT,
						(errcode(ERRCODE_GUARD_BLOCKED),
						 errmsg("plan was rejected; guard.mode = block would stop it"),
						 errdetail_internal("%s", flagged_detail(fp, &j, shape)),
						 decision_hint(fp, approver)));
			break;
		case GUARD_ACTION_THROTTLED:
			guard_store_mark_refused(MyDatabaseId, fp);
			if (!guard_throttle_enter(queryDesc))
				ereport(ERROR,
						(errcode(ERRCODE_GUARD_THROTTLED),
						 errmsg("guard throttled a plan that sequentially scans %s (about %.0f rows): "
								"%d flagged statements already running, waited %d ms",
								relation ? relation : "a large relation", rows,
								guard_flagged_max_concurrency, guard_flagged_wait_timeout),
						 errdetail_internal("%s", flagged_detail(fp, &j, shape)),
						 decision_hint(fp, approver)));
			break;
		case GUARD_ACTION_BLOCKED:
			guard_store_mark_refused(MyDatabaseId, fp);
			if (relation && (fp->flags & GUARD_FP_REJECTED))
				ereport(ERROR,
						(errcode(ERRCODE_GUARD_BLOCKED),
						 errmsg("guard blocked a rejected plan that sequentially scans %s (about %.0f rows)",
								relation, rows),
						 errdetail_internal("%s", flagged_detail(fp, &j, shape)),
						 decision_hint(fp, approver)));
			else if (relation)
				ereport(ERROR,
						(errcode(ERRCODE_GUARD_BLOCKED),
						 errmsg("guard blocked a plan that sequentially scans %s (about %.0f rows)",
								relation, rows),
						 errdetail_internal("%s", flagged_detail(fp, &j, shape)),
						 decision_hint(fp, approver)));
			else if (fp->flags & GUARD_FP_REJECTED)
				ereport(ERROR,
						(errcode(ERRCODE_GUARD_BLOCKED),
						 errmsg("guard blocked a plan that was rejected"),
						 errdetail_internal("%s", flagged_detail(fp, &j, shape)),
						 decision_hint(fp, approver)));
			else
				ereport(ERROR,
						(errcode(ERRCODE_GUARD_BLOCKED),
						 errmsg("guard blocked a plan that sequentially scans a large relation"),
						 errdetail_internal("%s", flagged_detail(fp, &j, shape)),
						 decision_hint(fp, approver)));
			break;
	}
}

/*
 * guard_enforce: ExecutorStart's work.  Counts the execution (if tracked)
 * and, for a flagged plan, records incidents and does what guard.mode
 * says (handle_flagged).  A failure to count or record fails open; the
 * verdict itself is never caught.
 */
void
guard_enforce(QueryDesc *queryDesc, int eflags, bool tracked)
{
	GuardFingerprint fp;

	if (!guard_fingerprint_get(queryDesc->plannedstmt, &fp))
		return;

	/* fast path, cannot fail: count the call */
	if (tracked)
	{
		TimestampTz now = GetCurrentStatementStartTimestamp();

		if (!guard_store_count(MyDatabaseId, &fp, now))
		{
			MemoryContext cxt = CurrentMemoryContext;

			/*
			 * Re-add a plan evicted since it was planned (rare).  Its text
			 * is stored as written: the constants' locations are gone with
			 * the parse tree.
			 */
			PG_TRY();
			{
				PlannedStmt *pstmt = queryDesc->plannedstmt;
				GuardPlanTexts texts;

				memset(&texts, 0, sizeof(texts));
				texts.query = guard_statement_text(queryDesc->sourceText,
												   pstmt->stmt_location,
												   pstmt->stmt_len);
				texts.plan = guard_plan_shape(pstmt);
				texts.plan = guard_clip_text(texts.plan, strlen(texts.plan));
				texts.nseqscans = guard_plan_seqscans(pstmt, NULL, 0, &texts.seqscans);
				guard_store_add(MyDatabaseId, GetUserId(), &fp, &texts);
				(void) guard_store_count(MyDatabaseId, &fp, now);
			}
			PG_CATCH();
			{
				guard_fail_open("record an execution", GUARD_VERDICT_KEPT, cxt);
			}
			PG_END_TRY();
		}
	}

	if (fp.flags & (GUARD_FP_FLAGGED | GUARD_FP_ANDOR))
		handle_flagged(queryDesc, &fp);
}

/*
 * guard_explain_line: the "Guard" line of EXPLAIN: what guard decided about
 * a plan it flags (or corrected), and what the current mode does with it.
 * NULL for plans guard has nothing to say about.
 */
char *
guard_explain_line(PlannedStmt *plan)
{
	GuardFingerprint fp;
	GuardJudgment j;
	StringInfoData buf;
	const char *relation;
	double		rows;

	if (!guard_fingerprint_get(plan, &fp))
		return NULL;
	initStringInfo(&buf);
	if (fp.flags & GUARD_FP_CORRECTED)
		appendStringInfoString(&buf, "corrected (guard.correct replaced a plan_regression by this approved plan)");
	else if ((fp.flags & (GUARD_FP_FLAGGED | GUARD_FP_ANDOR)) == 0)
		return NULL;			/* nothing to say: EXPLAIN output stays as is */
	else
	{
		GuardAction action = guard_enforcing_here() ?
			guard_mode_action(fp.flags) : GUARD_ACTION_LOGGED;

		(void) guard_judgment_get(plan, &fp, &j);
		relation = guard_judgment_relation(&j, &rows);
		appendStringInfo(&buf, "%s (%s)",
						 (fp.flags & GUARD_FP_FLAGGED) ? "flagged" : "warning",
						 reasons_text(j.reasons));
		if (relation)
			appendStringInfo(&buf, ": sequential scan of %s (about %.0f rows)",
							 relation, rows);
		if (fp.flags & GUARD_FP_ANDOR)
			appendStringInfo(&buf, "; WHERE reads as %s",
							 j.clause ? j.clause : "(clause not available)");
		appendStringInfo(&buf, "; guard.mode %s: %s",
						 guard_mode == GUARD_MODE_BLOCK ? "block" :
						 guard_mode == GUARD_MODE_WARN ? "warn" : "observe",
						 guard_action_name(action));
	}
	appendStringInfo(&buf, "; query_hash %lld, plan_hash %lld",
					 (long long) fp.query_hash, (long long) fp.plan_hash);
	return buf.data;
}
