/*-------------------------------------------------------------------------
 *
 * replan.c
 *		guard.replan(): plan every statement of this database's baseline
 *		again and report, per statement, whether its plan changed.
 *
 * After pg_upgrade, ANALYZE, a dropped or added index, a configuration
 * change, the DBA asks what the planner now makes of the statements whose
 * plans were reviewed.  For each distinct query_hash of guard.baseline
 * with a decision in force (an approved plan, or only rejected ones) the
 * stored text is parsed, its $n parameters typed by inference, and the
 * statement planned generically through guard_plan (judge.c) with nothing
 * recorded, exactly as guard.explain does: the hashes are the planner
 * hook's own, so they compare with guard.baseline.
 *
 * The verdict is made against the statement as the baseline knows it
 * (its query_hash), not against the hash of the re-parsed text: a text
 * recorded with literal values jumbles differently once they are $n, and
 * its decisions are filed under the original hash.
 *
 * Each statement is planned in an internal subtransaction (as PL/pgSQL's
 * exception blocks do): a statement whose table was dropped, whose
 * parameters cannot be typed or which the caller may not read gets a row
 * with the error, and the others go on.  Cancels and shutdowns are
 * re-thrown.  Nothing is executed but what the planner itself evaluates
 * (constant folding of immutable and stable functions), as for EXPLAIN.
 *
 * Cost: one parse and one planning per statement, bounded by the size of
 * the baseline; the locks the plannings take (AccessShareLock on every
 * relation read) are held to the end of the transaction.
 *
 * Privileges: the function is revoked from PUBLIC.  Each statement is
 * planned with the caller's privileges and checked like EXPLAIN (the
 * executor's permission check); a caller who may not SELECT from
 * guard.baseline sees the texts of a statement (query, approved plan,
 * error) only if that check passed.
 *
 * IDENTIFICATION
 *		src/replan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "parser/parse_param.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "guard.h"
#include "baseline.h"
#include "fingerprint.h"
#include "hooks.h"
#include "judge.h"
#include "policy.h"
#include "replan.h"
#include "sqlfuncs.h"

PG_FUNCTION_INFO_V1(guard_replan);

#define GUARD_REPLAN_COLS 16

/* normalize.c stores this for a statement that has no text of its own */
#define MASKED "<insufficient privilege>"

/* One decision of guard.baseline */
typedef struct ReplanPlan
{
	uint64		plan_hash;
	GuardStatus status;
	char	   *plan;			/* shape text, or NULL */
	TimestampTz created_at;
} ReplanPlan;

/* One statement of guard.baseline, with its decisions in force */
typedef struct ReplanStatement
{
	uint64		query_hash;
	char	   *query;			/* the text of its latest decision that has one */
	char	   *role;			/* the role that ran it (that decision's), or NULL */
	TimestampTz query_at;
	GuardStatus status;			/* approved if any plan is, else rejected */
	int			nplans;
	int			maxplans;
	ReplanPlan *plans;
} ReplanStatement;

/* What one statement's re-planning found */
typedef struct ReplanRow
{
	bool		planned;		/* the columns below the error are set */
	bool		generic;
	uint64		new_query_hash;
	uint64		new_plan_hash;
	char	   *new_plan;
	GuardStatus new_status;
	bool		changed;
	int			nseqscans;
	GuardSeqScan *seqscans;
	const char *verdict;
	uint32		reasons;
	char	   *error;
} ReplanRow;

/* Order of the report: by text (statements without one last), then hash */
static int
cmp_statement(const void *a, const void *b)
{
	const ReplanStatement *x = (const ReplanStatement *) a;
	const ReplanStatement *y = (const ReplanStatement *) b;

	return guard_cmp_report_order(x->query, x->query_hash, 0,
								  y->query, y->query_hash, 0);
}

static int
cmp_query_hash(const void *a, const void *b)
{
	uint64		x = ((const ReplanStatement *) a)->query_hash;
	uint64		y = ((const ReplanStatement *) b)->query_hash;

	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * read_statements: the statements of guard.baseline with a decision in
 * force, read with the statement's snapshot.  A decision's status is the
 * one guard judges by (the cached copy, which knows expired rejections);
 * rows the copy does not count (an expired rejection) are left out.
 * Returns the statements, sorted for the report, in the current context.
 */
static ReplanStatement *
read_statements(Oid relid, int *nstatements)
{
	Relation	rel;
	TupleDesc	desc;
	Snapshot	snapshot;
	TableScanDesc scan;
	HeapTuple	tuple;
	AttrNumber	att_query_hash = get_attnum(relid, "query_hash");
	AttrNumber	att_plan_hash = get_attnum(relid, "plan_hash");
	AttrNumber	att_query = get_attnum(relid, "query");
	AttrNumber	att_plan = get_attnum(relid, "plan");
	AttrNumber	att_created_at = get_attnum(relid, "created_at");
	AttrNumber	att_role = get_attnum(relid, "query_role");
	Datum	   *values;
	bool	   *isnull;
	ReplanStatement *stmts;
	int			n = 0;
	int			max = 64;
	int			kept;
	int			i;
	int			j;

	if (att_query_hash == InvalidAttrNumber || att_plan_hash == InvalidAttrNumber ||
		att_query == InvalidAttrNumber || att_plan == InvalidAttrNumber ||
		att_created_at == InvalidAttrNumber)
		elog(ERROR, "table guard.baseline lacks a column guard.replan reads");

	rel = table_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	values = palloc(desc->natts * sizeof(Datum));
	isnull = palloc(desc->natts * sizeof(bool));
	stmts = palloc(max * sizeof(ReplanStatement));
	snapshot = RegisterSnapshot(ActiveSnapshotSet() ? GetActiveSnapshot() :
								GetTransactionSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		uint64		query_hash;
		ReplanPlan	plan;
		ReplanStatement *st = NULL;

		CHECK_FOR_INTERRUPTS();
		heap_deform_tuple(tuple, desc, values, isnull);
		if (isnull[att_query_hash - 1] || isnull[att_plan_hash - 1])
			continue;
		query_hash = (uint64) DatumGetInt64(values[att_query_hash - 1]);
		plan.plan_hash = (uint64) DatumGetInt64(values[att_plan_hash - 1]);
		plan.status = guard_baseline_status(query_hash, plan.plan_hash);
		if (plan.status == GUARD_STATUS_NEW)
			continue;
		plan.plan = isnull[att_plan - 1] ? NULL :
			TextDatumGetCString(values[att_plan - 1]);
		plan.created_at = isnull[att_created_at - 1] ? 0 :
			DatumGetTimestampTz(values[att_created_at - 1]);

		/* a statement has few decisions: find it among the last ones */
		for (i = n - 1; i >= 0 && i >= n - 8; i--)
			if (stmts[i].query_hash == query_hash)
			{
				st = &stmts[i];
				break;
			}
		if (st == NULL)
		{
			if (n >= max)
			{
				max *= 2;
				stmts = repalloc(stmts, max * sizeof(ReplanStatement));
			}
			st = &stmts[n++];
			memset(st, 0, sizeof(*st));
			st->query_hash = query_hash;
			st->status = GUARD_STATUS_REJECTED;
			st->maxplans = 2;
			st->plans = palloc(st->maxplans * sizeof(ReplanPlan));
		}
		if (st->nplans >= st->maxplans)
		{
			st->maxplans *= 2;
			st->plans = repalloc(st->plans, st->maxplans * sizeof(ReplanPlan));
		}
		st->plans[st->nplans++] = plan;
		if (plan.status == GUARD_STATUS_APPROVED)
			st->status = GUARD_STATUS_APPROVED;
		if (!isnull[att_query - 1] &&
			(st->query == NULL || plan.created_at > st->query_at))
		{
			st->query = TextDatumGetCString(values[att_query - 1]);
			st->query_at = plan.created_at;
			st->role = att_role == InvalidAttrNumber || isnull[att_role - 1] ? NULL :
				pstrdup(NameStr(*DatumGetName(values[att_role - 1])));
		}
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);

	/*
	 * Decisions on one statement that the heap did not keep together (the
	 * look-back above only merges neighbours): merge them now.
	 */
	qsort(stmts, n, sizeof(ReplanStatement), cmp_query_hash);
	kept = 0;
	for (i = 0; i < n; i++)
	{
		ReplanStatement *into = kept > 0 ? &stmts[kept - 1] : NULL;

		if (into == NULL || into->query_hash != stmts[i].query_hash)
		{
			stmts[kept++] = stmts[i];
			continue;
		}
		for (j = 0; j < stmts[i].nplans; j++)
		{
			if (into->nplans >= into->maxplans)
			{
				into->maxplans *= 2;
				into->plans = repalloc(into->plans, into->maxplans * sizeof(ReplanPlan));
			}
			into->plans[into->nplans++] = stmts[i].plans[j];
		}
		if (stmts[i].status == GUARD_STATUS_APPROVED)
			into->status = GUARD_STATUS_APPROVED;
		if (stmts[i].query != NULL &&
			(into->query == NULL || stmts[i].query_at > into->query_at))
		{
			into->query = stmts[i].query;
			into->query_at = stmts[i].query_at;
		}
	}
	n = kept;

	qsort(stmts, n, sizeof(ReplanStatement), cmp_statement);
	*nstatements = n;
	return stmts;
}

/*
 * The approved plan to show beside the new one: the new plan itself if it
 * is approved, else the latest approval.  NULL for a statement with only
 * rejected plans.
 */
static ReplanPlan *
approved_plan(ReplanStatement *st, uint64 new_plan_hash, bool planned)
{
	ReplanPlan *best = NULL;
	int			i;

	for (i = 0; i < st->nplans; i++)
	{
		ReplanPlan *p = &st->plans[i];

		if (p->status != GUARD_STATUS_APPROVED)
			continue;
		if (planned && p->plan_hash == new_plan_hash)
			return p;
		if (best == NULL || p->created_at > best->created_at ||
			(p->created_at == best->created_at && p->plan_hash < best->plan_hash))
			best = p;
	}
	return best;
}

/*
 * plan_text: parse, analyze and plan one stored statement text (its $n
 * typed by inference) through guard_plan, judged as the planner hook
 * judges, recorded nowhere.  Fills *res and *nparams; returns the plan.
 * Runs inside the caller's subtransaction; raises an ERROR for anything
 * that stops it, including a plan guard could not fingerprint.  what names
 * the calling function in messages.
 */
static PlannedStmt *
plan_text(const char *text, const char *what, GuardPlanResult *res, int *nparams)
{
	List	   *raw;
	Oid		   *param_types = NULL;
	List	   *queries;
	Query	   *query = NULL;
	ListCell   *lc;
	PlannedStmt *pstmt;

	*nparams = 0;
	raw = pg_parse_query(text);
	if (list_length(raw) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stored statement text holds %d statements, not one",
						list_length(raw))));

	/* the constants of the stored text are $n: infer their types */
	queries = GuardAnalyzeVarparams(linitial_node(RawStmt, raw), text,
									&param_types, nparams, NULL);

	/* a rule may add statements: the one that sets the command tag */
	foreach(lc, queries)
	{
		Query	   *q = lfirst_node(Query, lc);

		if (query == NULL || q->canSetTag)
			query = q;
		if (q->canSetTag)
			break;
	}
	if (query == NULL || query->commandType == CMD_UTILITY)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot plan utility statement %s", what,
						query ? GetCommandTagName(CreateCommandTag(query->utilityStmt)) : "(none)")));

	pstmt = guard_plan(query, text, CURSOR_OPT_PARALLEL_OK, NULL,
					   guard_next_planner, false, res);
	if ((res->fp.flags & GUARD_FP_VALID) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("guard could not fingerprint the statement")));
	return pstmt;
}

/*
 * plan_statement: plan one stored statement (plan_text), judge the plan
 * against the statement's decisions.  Runs inside the caller's
 * subtransaction; raises an ERROR for anything that stops it.
 */
static void
plan_statement(ReplanStatement *st, ReplanRow *row)
{
	int			nparams;
	PlannedStmt *pstmt;
	GuardPlanResult res;
	GuardVerdict verdict;

	Oid			roleid;
	Oid			save_userid;
	int			save_sec;
	int			nestlevel;

	/*
	 * The text is the application's, and the planner runs the functions it
	 * folds (immutable ones with constant arguments): plan as the role that
	 * ran the statement, under a security-restricted operation, as ANALYZE
	 * runs a table's index expressions as its owner.  Never with the
	 * caller's rights.
	 */
	if (st->role == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the role that ran the statement is not recorded"),
				 errdetail("Its decisions were made before guard 0.5, and guard plans a statement only as the role that ran it."),
				 errhint("Decide its plan again once the statement has run.")));
	roleid = get_role_oid(st->role, true);
	if (!OidIsValid(roleid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\", which ran the statement, does not exist", st->role)));

	/*
	 * Not as a superuser, nor as the caller: the statement names objects
	 * that may since belong to someone else (a table become a view calling
	 * a function of its owner's), and what the planner folds would run with
	 * those rights.
	 */
	if (superuser_arg(roleid) || roleid == GetUserId())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("guard does not plan a statement as %s",
						superuser_arg(roleid) ? "a superuser" : "the caller"),
				 errdetail("The statement was run by role \"%s\"; planning it runs the functions the planner folds with that role's rights.", st->role),
				 errhint("Plan it yourself with EXPLAIN if you trust the objects it names.")));

	/*
	 * A security-restricted operation in a GUC nest level of its own, as
	 * ANALYZE runs index expressions: whatever the folded functions SET is
	 * undone here (and by the subtransaction's abort on error).
	 */
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(roleid, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	nestlevel = NewGUCNestLevel();
	pstmt = plan_text(st->query, "guard.replan", &res, &nparams);
	AtEOXact_GUC(false, nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec);

	/* like EXPLAIN: no plans of tables the caller cannot read */
	(void) GuardCheckPermissions(pstmt, true);
	row->generic = nparams > 0;
	row->new_query_hash = res.fp.query_hash;
	row->new_plan_hash = res.fp.plan_hash;
	row->new_plan = guard_plan_shape(pstmt);
	row->nseqscans = res.nseqscans;
	row->seqscans = res.seqscans;

	/*
	 * The verdict under the statement's own query_hash, where its
	 * decisions are filed (see the file's header).
	 */
	row->new_status = guard_baseline_status(st->query_hash, row->new_plan_hash);
	if (res.fp.flags & GUARD_FP_CORRECTED)
	{
		/* guard.correct would run an approved plan instead of the planner's */
		row->verdict = "corrected";
		row->reasons = GUARD_FP_PLAN_REGRESSION;
		row->changed = true;
	}
	else
	{
		guard_policy_evaluate(st->query_hash, row->new_plan_hash,
							  res.seqscans, res.nseqscans, &verdict);
		row->reasons = verdict.flagged ? verdict.reasons : 0;
		if ((res.fp.flags & GUARD_FP_ANDOR) && row->new_status != GUARD_STATUS_APPROVED)
			row->reasons |= GUARD_FP_ANDOR;
		row->verdict = verdict.flagged ? "flagged" :
			(row->reasons & GUARD_FP_ANDOR) ? "warning" : "ok";
		row->changed = row->new_status != st->status;
	}
	row->planned = true;
}

/*
 * Errors that end the call instead of becoming a row: cancels, timeouts
 * of the whole statement, shutdowns.
 */
static bool
must_rethrow(ErrorData *edata)
{
	/*
	 * Only the server's own interrupts: a function the planner folds may
	 * raise any SQLSTATE, and must not end the call for every statement.
	 */
	return edata->elevel > ERROR ||
		((edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
		  edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
		  edata->sqlerrcode == ERRCODE_CRASH_SHUTDOWN) &&
		 edata->funcname != NULL && strcmp(edata->funcname, "ProcessInterrupts") == 0);
}

/*
 * replan_one: plan one statement in a subtransaction of its own; an error
 * becomes row->error.  Allocates in cxt.
 */
static void
replan_one(ReplanStatement *st, ReplanRow *row, MemoryContext cxt)
{
	ResourceOwner owner = CurrentResourceOwner;

	memset(row, 0, sizeof(*row));
	if (st->query == NULL || strcmp(st->query, GUARD_NO_SOURCE_TEXT) == 0)
	{
		row->error = "no statement text";
		return;
	}

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		plan_statement(st, row);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (must_rethrow(edata))
			ReThrowError(edata);
		memset(row, 0, sizeof(*row));
		row->error = edata->message;
	}
	PG_END_TRY();
}

static Datum
reason_array(uint32 reasons)
{
	List	   *names = guard_reason_names(reasons);
	Datum	   *elems = palloc(Max(list_length(names), 1) * sizeof(Datum));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, names)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* Put one statement's row into the result */
static void
emit_row(ReturnSetInfo *rsinfo, ReplanStatement *st, ReplanRow *row,
		 bool see_texts)
{
	Datum		values[GUARD_REPLAN_COLS];
	bool		nulls[GUARD_REPLAN_COLS];
	ReplanPlan *approved = approved_plan(st, row->new_plan_hash, row->planned);

	/* a statement planned with the caller's rights is the caller's to see */
	bool		visible = see_texts || row->planned;
	int			c = 0;

	memset(nulls, 0, sizeof(nulls));
	values[c++] = Int64GetDatum((int64) st->query_hash);
	if (st->query == NULL)
		nulls[c++] = true;
	else
		values[c++] = CStringGetTextDatum(visible ? st->query : MASKED);
	values[c++] = CStringGetTextDatum(guard_status_name(st->status));
	if (row->planned)
		values[c++] = BoolGetDatum(row->generic);
	else
		nulls[c++] = true;
	if (approved)
	{
		values[c++] = Int64GetDatum((int64) approved->plan_hash);
		if (approved->plan == NULL)
			nulls[c++] = true;
		else
			values[c++] = CStringGetTextDatum(visible ? approved->plan : MASKED);
	}
	else
	{
		nulls[c++] = true;
		nulls[c++] = true;
	}
	if (row->planned)
	{
		values[c++] = Int64GetDatum((int64) row->new_query_hash);
		values[c++] = Int64GetDatum((int64) row->new_plan_hash);
		values[c++] = CStringGetTextDatum(row->new_plan);
		values[c++] = CStringGetTextDatum(guard_status_name(row->new_status));
		values[c++] = BoolGetDatum(row->changed);
		values[c++] = guard_seqscans_names(row->seqscans, row->nseqscans);
		values[c++] = guard_seqscans_rows(row->seqscans, row->nseqscans);
		values[c++] = CStringGetTextDatum(row->verdict);
		values[c++] = reason_array(row->reasons);
		nulls[c++] = true;
	}
	else
	{
		while (c < GUARD_REPLAN_COLS - 1)
			nulls[c++] = true;
		values[c++] = CStringGetTextDatum(visible ? row->error : MASKED);
	}
	Assert(c == GUARD_REPLAN_COLS);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * guard.replan(): one row per statement of this database's guard.baseline
 * with a decision in force.  Revoked from PUBLIC.
 */
Datum
guard_replan(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid;
	bool		see_texts;
	ReplanStatement *stmts;
	int			nstmts;
	MemoryContext callcxt = CurrentMemoryContext;
	MemoryContext rowcxt;
	int			i;

	/* the verdicts come from the backend's copy of the baseline */
	relid = guard_baseline_require();

	InitMaterializedSRF(fcinfo, 0);
	see_texts = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
	stmts = read_statements(relid, &nstmts);

	rowcxt = AllocSetContextCreate(callcxt, "guard replan", ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < nstmts; i++)
	{
		ReplanRow	row;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(rowcxt);
		replan_one(&stmts[i], &row, rowcxt);
		emit_row(rsinfo, &stmts[i], &row, see_texts);
		MemoryContextSwitchTo(callcxt);
	}
	MemoryContextDelete(rowcxt);
	return (Datum) 0;
}

