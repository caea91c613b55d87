/*-------------------------------------------------------------------------
 *
 * sqlfuncs.c
 *		Thin SQL-callable wrappers: guard.plans, guard.incidents, guard.info,
 *		guard.explain, guard.reset.
 *
 * IDENTIFICATION
 *		src/sqlfuncs.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "guard.h"
#include "fingerprint.h"
#include "store.h"
#include "baseline.h"
#include "policy.h"
#include "lint.h"
#include "incidents.h"
#include "throttle.h"
#include "hooks.h"
#include "judge.h"
#include "profile.h"
#include "sqlfuncs.h"

PG_FUNCTION_INFO_V1(guard_plans);
PG_FUNCTION_INFO_V1(guard_info);
PG_FUNCTION_INFO_V1(guard_explain);
PG_FUNCTION_INFO_V1(guard_reset);
PG_FUNCTION_INFO_V1(guard_incidents);

#define GUARD_PLANS_COLS 16		/* 15 before 0.6 (no stats_profile) */
#define GUARD_EXPLAIN_COLS 9		/* 8 before 0.6 (no stats_profile) */
#define GUARD_INCIDENTS_COLS_03 20	/* extension 0.3 */
#define GUARD_INCIDENTS_COLS 21
#define GUARD_INFO_COLS_03 13	/* extension 0.3 */
#define GUARD_INFO_COLS 15

/* guard_seqscans_names: the relation names of s as a text[] Datum */
Datum
guard_seqscans_names(const GuardSeqScan *s, int n)
{
	Datum	   *elems = palloc(Max(n, 1) * sizeof(Datum));
	int			i;

	for (i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(s[i].relname);
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* guard_seqscans_rows: the row estimates of s as a bigint[] Datum */
Datum
guard_seqscans_rows(const GuardSeqScan *s, int n)
{
	Datum	   *elems = palloc(Max(n, 1) * sizeof(Datum));
	int			i;

	for (i = 0; i < n; i++)
		elems[i] = Int64GetDatum((int64) s[i].rows);
	return PointerGetDatum(construct_array(elems, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * guard.plans(showtext): the observed plans.  Query texts, plan shapes and
 * the seq-scanned relations of other roles' plans are shown only to
 * members of pg_read_all_stats, as pg_stat_statements does for texts:
 * table and index names are the application's secrets too.
 */
Datum
guard_plans(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		showtext = PG_GETARG_BOOL(0);
	Oid			userid = GetUserId();
	bool		see_all = has_privs_of_role(userid, ROLE_PG_READ_ALL_STATS);
	GuardPlanRow *rows;
	int			nrows;
	int			i;

	guard_store_require();
	InitMaterializedSRF(fcinfo, 0);

	rows = guard_store_snapshot(&nrows, showtext);
	for (i = 0; i < nrows; i++)
	{
		GuardPlanRow *r = &rows[i];
		Datum		values[GUARD_PLANS_COLS];
		bool		nulls[GUARD_PLANS_COLS];
		int			c = 0;

		memset(nulls, 0, sizeof(nulls));
		values[c++] = ObjectIdGetDatum(r->dbid);
		values[c++] = ObjectIdGetDatum(r->userid);
		values[c++] = Int64GetDatum((int64) r->queryid);
		values[c++] = Int64GetDatum((int64) r->query_hash);
		values[c++] = Int64GetDatum((int64) r->plan_hash);
		if (!showtext || r->query == NULL)
			nulls[c++] = true;
		else if (see_all || r->userid == userid)
			values[c++] = CStringGetTextDatum(r->query);
		else
			values[c++] = CStringGetTextDatum("<insufficient privilege>");
		/* plan shapes and relation names are masked like the text */
		if (!showtext || r->plan == NULL)
			nulls[c++] = true;
		else if (see_all || r->userid == userid)
			values[c++] = CStringGetTextDatum(r->plan);
		else
			values[c++] = CStringGetTextDatum("<insufficient privilege>");
		if (!showtext || r->plan == NULL || !(see_all || r->userid == userid))
		{
			nulls[c++] = true;
			nulls[c++] = true;
		}
		else
		{
			values[c++] = guard_seqscans_names(r->seqscans, r->nseqscans);
			values[c++] = guard_seqscans_rows(r->seqscans, r->nseqscans);
		}
		/* decisions live in each database's own guard.baseline */
		if (r->dbid == MyDatabaseId)
			values[c++] = CStringGetTextDatum(guard_status_name(guard_baseline_status_texts(r->query_hash,
																							 r->plan_hash,
																							 r->query,
																							 r->plan)));
		else
			nulls[c++] = true;
		values[c++] = Int64GetDatum(r->calls);
		values[c++] = Int64GetDatum(r->generic_calls);
		values[c++] = Int64GetDatum(r->custom_calls);
		values[c++] = TimestampTzGetDatum(r->first_seen);
		values[c++] = TimestampTzGetDatum(r->last_seen);
		/* plans_internal_v2 (0.6): its first planning used a statistics profile */
		values[c++] = BoolGetDatum((r->flags & GUARD_FP_PROFILE) != 0);
		Assert(c == GUARD_PLANS_COLS);
		if (rsinfo->setDesc->natts > GUARD_PLANS_COLS)
			elog(ERROR, "guard.plans_internal returns %d columns, at most %d expected",
				 rsinfo->setDesc->natts, GUARD_PLANS_COLS);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* guard.info(): the store's size, limits and evictions. */
Datum
guard_info(PG_FUNCTION_ARGS)
{
	GuardStoreInfo info;
	TupleDesc	tupdesc;
	Datum		values[GUARD_INFO_COLS];
	bool		nulls[GUARD_INFO_COLS];

	guard_store_require();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	guard_store_info(&info);
	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum(info.plans);
	values[1] = Int64GetDatum(info.max_plans);
	values[2] = Int64GetDatum(info.evictions);
	values[3] = Int64GetDatum(info.text_bytes);
	values[4] = Int64GetDatum(info.text_limit);
	values[5] = Int64GetDatum(info.dropped_texts);
	values[6] = TimestampTzGetDatum(info.stats_reset);
	/* extension 0.3 and later: incidents and limp mode */
	if (tupdesc->natts >= GUARD_INFO_COLS_03)
	{
		int64		count,
					max,
					evictions,
					waits,
					timeouts;

		guard_incidents_info(&count, &max, &evictions);
		guard_throttle_counters(&waits, &timeouts);
		values[7] = Int64GetDatum(count);
		values[8] = Int64GetDatum(max);
		values[9] = Int64GetDatum(evictions);
		values[10] = Int32GetDatum(guard_throttle_running());
		values[11] = Int64GetDatum(waits);
		values[12] = Int64GetDatum(timeouts);
	}
	/* extension 0.4 and later: what the flood limits held back */
	if (tupdesc->natts >= GUARD_INFO_COLS)
	{
		GuardIncidentCounters ic;

		guard_incidents_counters(&ic);
		values[13] = Int64GetDatum(ic.dropped);
		values[14] = Int64GetDatum(ic.suppressed);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * guard.explain(text): plan one statement without running or recording
 * it, and say what guard thinks of the plan.  $n parameters are allowed
 * (their types are inferred, the plan is generic).  Like EXPLAIN, it
 * requires the privileges the statement would need.
 */
Datum
guard_explain(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	List	   *raw;
	RawStmt    *rawstmt;
	Oid		   *paramTypes = NULL;
	int			numParams = 0;
	List	   *queries;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);

	raw = pg_parse_query(sql);
	if (list_length(raw) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("guard.explain takes exactly one statement, got %d",
						list_length(raw))));
	rawstmt = linitial_node(RawStmt, raw);

	queries = pg_analyze_and_rewrite_varparams(rawstmt, sql, &paramTypes,
											   &numParams, NULL);
	foreach(lc, queries)
	{
		Query	   *query = lfirst_node(Query, lc);
		PlannedStmt *pstmt;
		GuardPlanResult res;
		GuardJudgment *j;
		char	   *plan;
		Datum		values[GUARD_EXPLAIN_COLS];
		bool		nulls[GUARD_EXPLAIN_COLS];
		Datum	   *reasons;
		List	   *reason_names;
		int			nreasons = 0;
		ListCell   *rc;

		if (query->commandType == CMD_UTILITY)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("guard.explain cannot plan utility statement %s",
							GetCommandTagName(CreateCommandTag(query->utilityStmt))),
					 errhint("Pass a SELECT, INSERT, UPDATE, DELETE or MERGE statement.")));

		/* judged as the planner hook judges, but recorded nowhere */
		pstmt = guard_plan(query, sql, CURSOR_OPT_PARALLEL_OK, NULL,
						   guard_next_planner, false, &res);

		/* like EXPLAIN: no peeking at plans over tables one cannot read */
		(void) GuardCheckPermissions(pstmt, true);

		if ((res.fp.flags & GUARD_FP_VALID) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("guard could not fingerprint the statement")));
		plan = guard_plan_shape(pstmt);
		j = &res.judgment;
		memset(nulls, 0, sizeof(nulls));
		values[0] = Int64GetDatum((int64) res.fp.query_hash);
		values[1] = Int64GetDatum((int64) res.fp.plan_hash);
		values[2] = CStringGetTextDatum(plan);
		values[3] = guard_seqscans_names(res.seqscans, res.nseqscans);
		values[4] = guard_seqscans_rows(res.seqscans, res.nseqscans);
		values[5] = CStringGetTextDatum((res.fp.flags & GUARD_FP_CORRECTED) ? "corrected" :
										(res.fp.flags & GUARD_FP_FLAGGED) ? "flagged" :
										(res.fp.flags & GUARD_FP_ANDOR) ? "warning" : "ok");
		reason_names = guard_reason_names(j->reasons);
		reasons = palloc(Max(list_length(reason_names), 1) * sizeof(Datum));
		foreach(rc, reason_names)
			reasons[nreasons++] = CStringGetTextDatum((char *) lfirst(rc));
		values[6] = PointerGetDatum(construct_array(reasons, nreasons, TEXTOID,
													-1, false, TYPALIGN_INT));
		if (j->clause)
			values[7] = CStringGetTextDatum(j->clause);
		else
			nulls[7] = true;
		/* stats_profile (0.6): NULL unless planned under a statistics profile */
		{
			char	   *profile = guard_profile_explain_line(pstmt);

			nulls[8] = profile == NULL;
			values[8] = profile ? CStringGetTextDatum(profile) : (Datum) 0;
		}
		if (rsinfo->setDesc->natts > GUARD_EXPLAIN_COLS)
			elog(ERROR, "guard.explain returns %d columns, at most %d expected",
				 rsinfo->setDesc->natts, GUARD_EXPLAIN_COLS);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * guard.reset(userid oid, dbid oid, query_hash bigint): forget the observed
 * plans and incidents of that role (the role that first ran them), that
 * database and that statement; 0 matches any, and with all three 0 (or
 * called through extension 0.3's guard.reset(), without arguments) it
 * forgets everything and zeroes the counters, as pg_stat_statements_reset
 * does.  Revoked from PUBLIC.
 */
Datum
guard_reset(PG_FUNCTION_ARGS)
{
	Oid			userid = InvalidOid;
	Oid			dbid = InvalidOid;
	uint64		query_hash = 0;

	guard_store_require();
	if (PG_NARGS() >= 3)
	{
		userid = PG_GETARG_OID(0);
		dbid = PG_GETARG_OID(1);
		query_hash = (uint64) PG_GETARG_INT64(2);
	}
	if (userid == InvalidOid && dbid == InvalidOid && query_hash == 0)
	{
		guard_store_reset();
		guard_incidents_reset();
	}
	else
	{
		guard_store_reset_matching(userid, dbid, query_hash);
		guard_incidents_reset_matching(userid, dbid, query_hash);
	}
	PG_RETURN_VOID();
}

/*
 * guard.incidents_internal(): the incidents.  As for guard.plans, the query
 * texts, plan shapes, relation names and clauses of other roles' incidents
 * are shown only to members of pg_read_all_stats; the view masks
 * baseline_plan by the visible column (extension 0.4).
 * status is the DBA's decision on the plan, for this database's incidents.
 */
Datum
guard_incidents(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			userid = GetUserId();
	bool		see_all = has_privs_of_role(userid, ROLE_PG_READ_ALL_STATS);
	GuardIncidentRow *rows;
	int			nrows;
	int			i;

	guard_store_require();
	InitMaterializedSRF(fcinfo, 0);

	rows = guard_incidents_snapshot(&nrows);
	for (i = 0; i < nrows; i++)
	{
		GuardIncidentRow *r = &rows[i];
		Datum		values[GUARD_INCIDENTS_COLS];
		bool		nulls[GUARD_INCIDENTS_COLS];
		bool		mine = see_all || r->userid == userid;
		int			c = 0;

		/*
		 * The plan it replaced, if the incident was recorded before the
		 * statement it came from had an approved plan: look again now.
		 */
		if (r->baseline_plan_hash == 0 && r->dbid == MyDatabaseId && r->query[0])
			(void) guard_sibling_baseline(r->query_hash, r->query,
										  &r->baseline_query_hash,
										  &r->baseline_plan_hash);

		memset(nulls, 0, sizeof(nulls));
		values[c++] = Int64GetDatum(r->incident_id);
		values[c++] = ObjectIdGetDatum(r->dbid);
		values[c++] = ObjectIdGetDatum(r->userid);
		values[c++] = Int64GetDatum((int64) r->query_hash);
		values[c++] = Int64GetDatum((int64) r->plan_hash);
		values[c++] = CStringGetTextDatum(guard_reason_name(r->reason));
		if (r->relation && mine)
		{
			values[c++] = CStringGetTextDatum(r->relation);
			values[c++] = Int64GetDatum((int64) r->relation_rows);
		}
		else if (r->relation)
		{
			values[c++] = CStringGetTextDatum("<insufficient privilege>");
			nulls[c++] = true;
		}
		else
		{
			nulls[c++] = true;
			nulls[c++] = true;
		}
		values[c++] = CStringGetTextDatum(guard_action_name(r->action));
		values[c++] = CStringGetTextDatum(guard_action_name(r->would_action));
		if (r->baseline_plan_hash != 0)
		{
			values[c++] = Int64GetDatum((int64) r->baseline_query_hash);
			values[c++] = Int64GetDatum((int64) r->baseline_plan_hash);
		}
		else
		{
			nulls[c++] = true;
			nulls[c++] = true;
		}
		if (r->clause && mine)
			values[c++] = CStringGetTextDatum(r->clause);
		else if (r->clause)
			values[c++] = CStringGetTextDatum("<insufficient privilege>");
		else
			nulls[c++] = true;
		values[c++] = CStringGetTextDatum(mine ? r->query : "<insufficient privilege>");
		values[c++] = CStringGetTextDatum(mine ? r->plan : "<insufficient privilege>");
		values[c++] = Int64GetDatum(r->count);
		values[c++] = TimestampTzGetDatum(r->first_seen);
		values[c++] = TimestampTzGetDatum(r->last_seen);
		values[c++] = BoolGetDatum(r->resolved);
		if (r->dbid == MyDatabaseId)
			values[c++] = CStringGetTextDatum(guard_status_name(guard_baseline_status_rules(r->query_hash,
																							 r->plan_hash,
																							 r->rules,
																							 r->query,
																							 r->plan)));
		else
			nulls[c++] = true;
		Assert(c == GUARD_INCIDENTS_COLS_03);
		/* extension 0.4: may the reader see the texts (baseline_plan)? */
		if (rsinfo->setDesc->natts >= GUARD_INCIDENTS_COLS)
			values[c++] = BoolGetDatum(mine);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
