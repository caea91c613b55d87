/*-------------------------------------------------------------------------
 *
 * review.c
 *		The DBA's decisions: guard.approve, guard.reject (with an optional
 *		expiry), guard.forget and guard.approve_observed.
 *
 * Each function writes guard.baseline through guard_baseline_write()
 * (baseline.c), as the table's owner, so a role granted EXECUTE on them
 * needs no privilege on the table; the role that called them is recorded.
 * The trigger on the table makes every session reload its copy.  A
 * decision resolves the plan's incidents when the transaction commits.
 *
 * An approval keeps the plan's query and shape texts: the baseline reads
 * the shape to know which relations an approved plan reads by Seq Scan and
 * through an index (see baseline.c), so a decision on a plan guard no
 * longer holds in guard.plans takes the texts from its incidents, and says
 * so when neither has them.
 *
 * The entries of older SQL definitions keep working: the 0.3 reject has
 * three arguments, the 0.3 approve_observed one (PG_NARGS()).
 *
 * IDENTIFICATION
 *		src/review.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "guard.h"
#include "baseline.h"
#include "incidents.h"
#include "policy.h"
#include "review.h"
#include "store.h"

PG_FUNCTION_INFO_V1(guard_approve);
PG_FUNCTION_INFO_V1(guard_reject);
PG_FUNCTION_INFO_V1(guard_forget);
PG_FUNCTION_INFO_V1(guard_approve_observed);

/*
 * 0.5: with the fingerprint rules the hashes were computed under and the
 * role that ran the statement (and, from 0.4, the expiry)
 */
static const char *decide_sql =
"INSERT INTO guard.baseline AS b "
"  (query_hash, plan_hash, status, query, plan, note, created_at, created_by, expires_at, "
"   fingerprint_rules, query_role) "
"VALUES ($1, $2, $3, $4, $5, $6, pg_catalog.now(), $7, $8, $9, $10) "
"ON CONFLICT (query_hash, plan_hash) DO UPDATE SET "
"  status = excluded.status, note = excluded.note, "
"  query = COALESCE(excluded.query, b.query), "
"  plan = COALESCE(excluded.plan, b.plan), "
"  created_at = excluded.created_at, created_by = excluded.created_by, "
"  expires_at = excluded.expires_at, fingerprint_rules = excluded.fingerprint_rules, "
"  query_role = COALESCE(excluded.query_role, b.query_role)";

/* 0.4: with the expiry of a rejection */
static const char *decide_sql_expiry =
"INSERT INTO guard.baseline AS b "
"  (query_hash, plan_hash, status, query, plan, note, created_at, created_by, expires_at) "
"VALUES ($1, $2, $3, $4, $5, $6, pg_catalog.now(), $7, $8) "
"ON CONFLICT (query_hash, plan_hash) DO UPDATE SET "
"  status = excluded.status, note = excluded.note, "
"  query = COALESCE(excluded.query, b.query), "
"  plan = COALESCE(excluded.plan, b.plan), "
"  created_at = excluded.created_at, created_by = excluded.created_by, "
"  expires_at = excluded.expires_at";

/* 0.2 and 0.3 tables: no expiry column */
static const char *decide_sql_03 =
"INSERT INTO guard.baseline AS b "
"  (query_hash, plan_hash, status, query, plan, note, created_at, created_by) "
"VALUES ($1, $2, $3, $4, $5, $6, pg_catalog.now(), $7) "
"ON CONFLICT (query_hash, plan_hash) DO UPDATE SET "
"  status = excluded.status, note = excluded.note, "
"  query = COALESCE(excluded.query, b.query), "
"  plan = COALESCE(excluded.plan, b.plan), "
"  created_at = excluded.created_at, created_by = excluded.created_by";

/* The two hashes of a decision function's first arguments, not null. */
static void
get_hashes(FunctionCallInfo fcinfo, uint64 *query_hash, uint64 *plan_hash)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("query_hash and plan_hash must not be null")));
	*query_hash = (uint64) PG_GETARG_INT64(0);
	*plan_hash = (uint64) PG_GETARG_INT64(1);
}

/*
 * plan_texts: the query and shape texts of a plan of this database, from
 * guard.plans, else from one of its incidents (the raw texts, not the
 * view's masked ones; clipped at 2 kB there).  False if neither has them.
 */
static bool
plan_texts(uint64 query_hash, uint64 plan_hash, char **query, char **plan,
		   Oid *userid, int *rules)
{
	GuardPlanRow row;
	GuardIncidentRow *inc;
	int			ninc;
	int			i;

	*userid = InvalidOid;
	*rules = guard_fingerprint_rules;
	if (!guard_store_ready())
		return false;
	if (guard_store_get(MyDatabaseId, query_hash, plan_hash, &row) &&
		row.query != NULL && row.plan != NULL)
	{
		*query = row.query;
		*plan = row.plan;
		*userid = row.userid;
		return true;
	}
	inc = guard_incidents_snapshot(&ninc);
	for (i = 0; i < ninc; i++)
	{
		GuardIncidentRow *r = &inc[i];

		/*
		 * A corrected incident records no shape of its own (the approved
		 * plan ran instead): its plan text starts with a parenthesis.
		 */
		if (r->dbid == MyDatabaseId && r->query_hash == query_hash &&
			r->plan_hash == plan_hash && r->action != GUARD_ACTION_CORRECTED &&
			r->query != NULL && r->query[0] != '\0' &&
			r->plan != NULL && r->plan[0] != '\0' && r->plan[0] != '(')
		{
			*query = r->query;
			*plan = r->plan;
			*userid = r->userid;
			*rules = r->rules;
			return true;
		}
	}
	return false;
}

/*
 * A decision in a table without the rules column would be read as made
 * under rules 1: refused under other rules (a database not updated yet).
 */
static void
require_rules_column(void)
{
	if (guard_fingerprint_rules != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table guard.baseline has no column fingerprint_rules"),
				 errdetail("A decision made now would be read as made under guard.fingerprint_rules = 1."),
				 errhint("Run ALTER EXTENSION guard UPDATE.")));
}

/*
 * Record one decision, with the texts of the plan if guard knows them.
 * expires_at (0: none) is a rejection's expiry.
 */
static void
decide_one(FunctionCallInfo fcinfo, uint64 query_hash, uint64 plan_hash,
		   GuardStatus status, TimestampTz expires_at)
{
	Oid			argtypes[10] = {INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	NAMEOID, TIMESTAMPTZOID, INT2OID, NAMEOID};
	Datum		values[10];
	char		nulls[10] = "          ";
	char	   *query = NULL;
	char	   *plan = NULL;
	Oid			userid;
	int			rules;
	char	   *role;
	bool		have_texts;
	bool		with_expiry = guard_baseline_has_column("expires_at");
	bool		with_rules = with_expiry && guard_baseline_has_column("fingerprint_rules");
	char	   *who = GetUserNameFromId(GetUserId(), false);

	if (!with_rules)
		require_rules_column();
	if (expires_at != 0 && !with_expiry)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table guard.baseline has no column expires_at"),
				 errhint("Run ALTER EXTENSION guard UPDATE.")));

	values[0] = Int64GetDatum((int64) query_hash);
	values[1] = Int64GetDatum((int64) plan_hash);
	values[2] = CStringGetTextDatum(guard_status_name(status));
	have_texts = plan_texts(query_hash, plan_hash, &query, &plan, &userid, &rules);
	if (have_texts)
	{
		values[3] = CStringGetTextDatum(query);
		values[4] = CStringGetTextDatum(plan);
	}
	else
		nulls[3] = nulls[4] = 'n';
	if (PG_NARGS() < 3 || PG_ARGISNULL(2))
		nulls[5] = 'n';
	else
		values[5] = PG_GETARG_DATUM(2);
	values[6] = DirectFunctionCall1(namein, CStringGetDatum(who));
	if (expires_at != 0)
		values[7] = TimestampTzGetDatum(expires_at);
	else
		nulls[7] = 'n';

	/*
	 * The hashes of a plan guard knows only from an incident recorded
	 * under other fingerprint rules (before a restart into new ones) are
	 * those rules' hashes: the decision is filed under them, and applies
	 * by its texts (baseline.c).
	 */
	values[8] = Int16GetDatum((int16) rules);
	role = OidIsValid(userid) ? GetUserNameFromId(userid, true) : NULL;
	if (role != NULL)
		values[9] = DirectFunctionCall1(namein, CStringGetDatum(role));
	else
		nulls[9] = 'n';

	if (with_rules)
		(void) guard_baseline_write(decide_sql, 10, argtypes, values, nulls, NULL);
	else
		(void) guard_baseline_write(with_expiry ? decide_sql_expiry : decide_sql_03,
									with_expiry ? 8 : 7, argtypes, values, nulls, NULL);

	/*
	 * An approval without a shape: the baseline cannot tell which relations
	 * the plan reads, so the statement's other plans (its parallel variant,
	 * say) are judged as if it had no approved plan.
	 */
	if (!have_texts && status == GUARD_STATUS_APPROVED)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("approved plan %lld of statement %lld without its shape",
						(long long) plan_hash, (long long) query_hash),
				 errdetail("guard holds neither the plan in guard.plans nor an incident of it, so it cannot tell which relations the plan reads; other plans of the statement are judged as if it had no approved plan."),
				 errhint("Run the statement once so that guard observes the plan, then approve it again.")));

	/* the plan's incidents are resolved when this transaction commits */
	if (guard_store_ready())
		guard_incidents_resolve_at_commit(query_hash, plan_hash);
}

/*
 * The same statement sent with literal values and prepared with parameters
 * has two query_hashes (a parameter and a constant jumble differently) but
 * one text and one plan: a decision on one is a decision on both.  Fills
 * up to max aliases (guard_store_aliases) and says so in a NOTICE.
 */
static int
decision_aliases(uint64 query_hash, uint64 plan_hash, uint64 *aliases, int max,
				 bool forgetting)
{
	int			n;
	StringInfoData buf;
	int			i;

	if (!guard_store_ready())
		return 0;
	n = guard_store_aliases(MyDatabaseId, query_hash, plan_hash, aliases, max);
	if (n == 0)
		return 0;
	initStringInfo(&buf);
	for (i = 0; i < n; i++)
		appendStringInfo(&buf, "%s%lld", i ? ", " : "", (long long) aliases[i]);
	ereport(NOTICE,
			(forgetting ?
			 errmsg_plural("the decision is forgotten for %d more statement with the same text and plan",
						   "the decision is forgotten for %d more statements with the same text and plan",
						   n, n) :
			 errmsg_plural("the decision applies to %d more statement with the same text and plan",
						   "the decision applies to %d more statements with the same text and plan",
						   n, n),
			 errdetail("The same statement sent with parameters instead of literal values, or the other way round, has query_hash %s.",
					   buf.data)));
	return n;
}

/* A decision on a plan and on its aliases */
static void
decide(FunctionCallInfo fcinfo, GuardStatus status, TimestampTz expires_at)
{
	uint64		query_hash;
	uint64		plan_hash;
	uint64		aliases[16];
	int			n;
	int			i;

	get_hashes(fcinfo, &query_hash, &plan_hash);
	decide_one(fcinfo, query_hash, plan_hash, status, expires_at);
	n = decision_aliases(query_hash, plan_hash, aliases, lengthof(aliases), false);
	for (i = 0; i < n; i++)
		decide_one(fcinfo, aliases[i], plan_hash, status, expires_at);
}

/* guard.approve(query_hash, plan_hash [, note]) */
Datum
guard_approve(PG_FUNCTION_ARGS)
{
	decide(fcinfo, GUARD_STATUS_APPROVED, 0);
	PG_RETURN_VOID();
}

/*
 * guard.reject(query_hash, plan_hash [, note [, until]]): after until the
 * rejection no longer applies.  0.3's definition has no until.
 */
Datum
guard_reject(PG_FUNCTION_ARGS)
{
	TimestampTz until = 0;

	if (PG_NARGS() >= 4 && !PG_ARGISNULL(3))
	{
		until = PG_GETARG_TIMESTAMPTZ(3);
		if (until <= GetCurrentStatementStartTimestamp())
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("rejection expiry must be in the future"),
					 errdetail("The until argument is %s.", timestamptz_to_str(until))));
		if (until == 0)
			until = 1;			/* 0 means "no expiry" in the cached copy */
	}
	decide(fcinfo, GUARD_STATUS_REJECTED, until);
	PG_RETURN_VOID();
}

/*
 * guard.forget(query_hash, plan_hash): delete the decision on a plan, so
 * that it is judged again like an undecided one, with the same decision
 * filed under other hashes: its aliases, and the rows of the same statement
 * text (up to $n numbering) and plan shape under other fingerprint rules.
 * Returns whether there was a decision.  Incidents are not touched.
 */
Datum
guard_forget(PG_FUNCTION_ARGS)
{
	uint64		query_hash;
	uint64		plan_hash;
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Datum		values[2];

	uint64		aliases[16];
	int			n;
	int			i;
	uint64		deleted;

	get_hashes(fcinfo, &query_hash, &plan_hash);
	values[0] = Int64GetDatum((int64) query_hash);
	values[1] = Int64GetDatum((int64) plan_hash);

	/*
	 * The same decision filed under other hashes: under other fingerprint
	 * rules (matched by these texts until guard.rekey carried it), or by
	 * guard.rekey for the same statement and plan.
	 */
	if (guard_baseline_has_column("fingerprint_rules"))
		(void) guard_baseline_write("DELETE FROM guard.baseline b USING guard.baseline d "
									"WHERE d.query_hash = $1 AND d.plan_hash = $2 "
									"  AND NOT (b.query_hash = $1 AND b.plan_hash = $2) "
									"  AND b.plan = d.plan "
									"  AND pg_catalog.regexp_replace(b.query, '[$][0-9]+', '$', 'g') = "
									"      pg_catalog.regexp_replace(d.query, '[$][0-9]+', '$', 'g')",
									2, argtypes, values, "  ", NULL);
	deleted = guard_baseline_write("DELETE FROM guard.baseline "
								   "WHERE query_hash = $1 AND plan_hash = $2",
								   2, argtypes, values, "  ", NULL);
	n = decision_aliases(query_hash, plan_hash, aliases, lengthof(aliases), true);
	for (i = 0; i < n; i++)
	{
		values[0] = Int64GetDatum((int64) aliases[i]);
		(void) guard_baseline_write("DELETE FROM guard.baseline "
									"WHERE query_hash = $1 AND plan_hash = $2",
									2, argtypes, values, "  ", NULL);
	}
	PG_RETURN_BOOL(deleted > 0);
}

/* Candidates of approve_observed, as the arrays its INSERT unnests */
typedef struct Adoption
{
	int			n;
	Datum	   *qh;
	Datum	   *ph;
	Datum	   *qt;
	Datum	   *pt;
	bool	   *qt_null;
	bool	   *pt_null;
	Datum	   *role;			/* the role that ran it (name), or NULL */
	bool	   *role_null;
} Adoption;

static void
adoption_init(Adoption *a, int max)
{
	max = Max(max, 1);
	a->n = 0;
	a->qh = palloc(max * sizeof(Datum));
	a->ph = palloc(max * sizeof(Datum));
	a->qt = palloc(max * sizeof(Datum));
	a->pt = palloc(max * sizeof(Datum));
	a->qt_null = palloc0(max * sizeof(bool));
	a->pt_null = palloc0(max * sizeof(bool));
	a->role = palloc(max * sizeof(Datum));
	a->role_null = palloc0(max * sizeof(bool));
}

static void
adoption_add(Adoption *a, const GuardPlanRow *r)
{
	char	   *role;

	a->qh[a->n] = Int64GetDatum((int64) r->query_hash);
	a->ph[a->n] = Int64GetDatum((int64) r->plan_hash);
	if (r->query != NULL && r->plan != NULL)
	{
		a->qt[a->n] = CStringGetTextDatum(r->query);
		a->pt[a->n] = CStringGetTextDatum(r->plan);
	}
	else
		a->qt_null[a->n] = a->pt_null[a->n] = true;
	role = GetUserNameFromId(r->userid, true);
	if (role != NULL)
		a->role[a->n] = DirectFunctionCall1(namein, CStringGetDatum(role));
	else
		a->role_null[a->n] = true;
	a->n++;
}

/*
 * Approve the candidates in one INSERT, ON CONFLICT DO NOTHING so that no
 * decision is ever overridden; resolve the incidents of those approved at
 * commit.  Returns how many were approved.
 */
static int64
adoption_insert(Adoption *a, Datum note, bool note_null, Datum who)
{
	static const char *sql =
	"INSERT INTO guard.baseline "
	"  (query_hash, plan_hash, status, query, plan, note, created_at, created_by) "
	"SELECT u.q, u.p, 'approved', u.qt, u.pt, $5, pg_catalog.now(), $6 "
	"  FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
	"                 pg_catalog.unnest($3), pg_catalog.unnest($4)) AS u(q, p, qt, pt) "
	"ON CONFLICT (query_hash, plan_hash) DO NOTHING "
	"RETURNING query_hash, plan_hash";

	/* 0.5: the same, recording the fingerprint rules and the statement's role */
	static const char *sql_rules =
	"INSERT INTO guard.baseline "
	"  (query_hash, plan_hash, status, query, plan, note, created_at, created_by, "
	"   fingerprint_rules, query_role) "
	"SELECT u.q, u.p, 'approved', u.qt, u.pt, $5, pg_catalog.now(), $6, $7, u.r "
	"  FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
	"                 pg_catalog.unnest($3), pg_catalog.unnest($4), "
	"                 pg_catalog.unnest($8)) AS u(q, p, qt, pt, r) "
	"ON CONFLICT (query_hash, plan_hash) DO NOTHING "
	"RETURNING query_hash, plan_hash";
	bool		with_rules = guard_baseline_has_column("fingerprint_rules");
	Oid			argtypes[8] = {INT8ARRAYOID, INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTOID, NAMEOID, INT2OID, NAMEARRAYOID};
	Datum		values[8];
	char		nulls[8] = "        ";
	int			dims[1];
	int			lbs[1] = {1};
	uint64	   *keys;
	uint64		done;
	uint64		i;

	if (a->n == 0)
		return 0;
	if (!with_rules)
		require_rules_column();
	dims[0] = a->n;
	values[0] = PointerGetDatum(construct_array(a->qh, a->n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[1] = PointerGetDatum(construct_array(a->ph, a->n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[2] = PointerGetDatum(construct_md_array(a->qt, a->qt_null, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
	values[3] = PointerGetDatum(construct_md_array(a->pt, a->pt_null, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
	if (note_null)
		nulls[4] = 'n';
	else
		values[4] = note;
	values[5] = who;
	values[6] = Int16GetDatum((int16) guard_fingerprint_rules);
	values[7] = PointerGetDatum(construct_md_array(a->role, a->role_null, 1, dims, lbs,
												   NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR));

	done = guard_baseline_write(with_rules ? sql_rules : sql, with_rules ? 8 : 6,
								argtypes, values, nulls, &keys);
	for (i = 0; keys != NULL && i < done; i++)
		guard_incidents_resolve_at_commit(keys[2 * i], keys[2 * i + 1]);
	return (int64) done;
}

/*
 * guard.approve_observed([note [, skip_flagged]]): the initial capture
 * after a warm-up.  Adopts every plan of this database that executed
 * (calls > 0: a plan only EXPLAINed is never adopted) and has no decision
 * yet, including plans the rules flag (pre-existing sequential scans of
 * large tables) and plans with open incidents, whose warm-up incidents it
 * resolves; a NOTICE counts the flagged ones.  With skip_flagged (and
 * through 0.3's one-argument definition) it leaves out plans the rules
 * would flag and plans with open incidents.  Returns how many were adopted.
 */
static int
cmp_pair(const void *a, const void *b)
{
	const uint64 *x = (const uint64 *) a;
	const uint64 *y = (const uint64 *) b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	if (x[1] != y[1])
		return x[1] < y[1] ? -1 : 1;
	return 0;
}

/*
 * refused_plans: the (query_hash, plan_hash) pairs of this database whose
 * incidents say guard blocked them, sorted for
 * guard_incidents_pairs_contain.
 */
static uint64 *
refused_plans(int *n)
{
	int			nrows;
	GuardIncidentRow *rows = guard_incidents_snapshot(&nrows);
	uint64	   *pairs = palloc(Max(nrows, 1) * 2 * sizeof(uint64));
	int			i;

	*n = 0;
	for (i = 0; i < nrows; i++)
		if (rows[i].dbid == MyDatabaseId && rows[i].action == GUARD_ACTION_BLOCKED)
		{
			pairs[2 * *n] = rows[i].query_hash;
			pairs[2 * *n + 1] = rows[i].plan_hash;
			(*n)++;
		}
	qsort(pairs, *n, 2 * sizeof(uint64), cmp_pair);
	return pairs;
}

Datum
guard_approve_observed(PG_FUNCTION_ARGS)
{
	GuardPlanRow *rows;
	int			nrows;
	int			i;
	uint64	   *open = NULL;
	int			nopen = 0;
	bool		skip_flagged;
	bool		note_null = PG_ARGISNULL(0);
	Datum		note = note_null ? (Datum) 0 : PG_GETARG_DATUM(0);
	Datum		who;
	Adoption	flagged;
	Adoption	clean;
	int64		nflagged;
	int64		nclean;
	uint64	   *refused;
	int			nrefused;
	int64		skipped_refused = 0;
	int64		nandor = 0;

	if (PG_NARGS() < 2)
		skip_flagged = true;	/* 0.3's definition: the strict capture */
	else if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("skip_flagged must not be null")));
	else
		skip_flagged = PG_GETARG_BOOL(1);

	guard_store_require();
	if (skip_flagged)
		open = guard_incidents_open_plans(MyDatabaseId, &nopen);
	refused = refused_plans(&nrefused);
	rows = guard_store_snapshot(&nrows, true);
	adoption_init(&flagged, nrows);
	adoption_init(&clean, nrows);
	for (i = 0; i < nrows; i++)
	{
		GuardPlanRow *r = &rows[i];
		bool		flags;

		if (r->dbid != MyDatabaseId || r->calls <= 0 ||
			guard_baseline_status(r->query_hash, r->plan_hash) != GUARD_STATUS_NEW)
			continue;

		/*
		 * calls counts the executions guard refused too: a plan guard
		 * blocked never ran, and a capture taken in block mode must not
		 * approve what block mode stopped.
		 */
		if ((r->flags & GUARD_FP_REFUSED) ||
			guard_incidents_pairs_contain(refused, nrefused, r->query_hash, r->plan_hash))
		{
			skipped_refused++;
			continue;
		}
		flags = guard_policy_flags_row(r);
		if (skip_flagged &&
			(flags || (r->flags & GUARD_FP_ANDOR) ||
			 guard_incidents_pairs_contain(open, nopen, r->query_hash, r->plan_hash)))
			continue;
		if (r->flags & GUARD_FP_ANDOR)
			nandor++;
		adoption_add(flags ? &flagged : &clean, r);
	}

	who = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	nflagged = adoption_insert(&flagged, note, note_null, who);
	nclean = adoption_insert(&clean, note, note_null, who);

	if (nflagged > 0)
	{
		char	   *list;

		/* the plans it counted: those whose seq scans reach the threshold */
		const char *large =
			"EXISTS (SELECT FROM unnest(p.seqscan_rows) r WHERE r >= current_setting('guard.seqscan_min_rows')::bigint)";

		if (note_null)
			list = psprintf("SELECT p.query, p.plan, p.seqscans, p.seqscan_rows FROM guard.plans p JOIN guard.baseline b USING (query_hash, plan_hash) "
							"WHERE p.database = current_database() AND b.note IS NULL AND b.created_at = '%s' AND %s;",
							timestamptz_to_str(GetCurrentTransactionStartTimestamp()), large);
		else
			list = psprintf("SELECT p.query, p.plan, p.seqscans, p.seqscan_rows FROM guard.plans p JOIN guard.baseline b USING (query_hash, plan_hash) "
							"WHERE p.database = current_database() AND b.note = %s AND %s;",
							quote_literal_cstr(TextDatumGetCString(note)), large);
		ereport(NOTICE,
				(errmsg_plural("approve_observed adopted %lld plan that reads a large table sequentially",
							   "approve_observed adopted %lld plans that read large tables sequentially",
							   (unsigned long) nflagged, (long long) nflagged),
				 errdetail("The rules would flag these plans (new_seqscan); approved, they run in every guard.mode and their incidents are resolved."),
				 errhint("List them with: %s", list)));
	}
	if (nandor > 0)
		ereport(NOTICE,
				(errmsg_plural("approve_observed adopted %lld plan whose WHERE clause mixes AND and OR without parentheses",
							   "approve_observed adopted %lld plans whose WHERE clauses mix AND and OR without parentheses",
							   (unsigned long) nandor, (long long) nandor),
				 errdetail("Approved, their clauses are taken as written on purpose: the lint no longer warns about them."),
				 errhint("List them with: SELECT reason, clause, query FROM guard.incidents WHERE reason = 'andor_precedence' OR clause IS NOT NULL;")));
	if (skipped_refused > 0)
		ereport(NOTICE,
				(errmsg_plural("approve_observed skipped %lld plan that guard refused to run",
							   "approve_observed skipped %lld plans that guard refused to run",
							   (unsigned long) skipped_refused, (long long) skipped_refused),
				 errdetail("Their executions were blocked, or throttled in limp mode: they never ran as the application expected."),
				 errhint("Approve or reject them one by one with guard.approve() or guard.reject().")));
	PG_RETURN_INT64(nflagged + nclean);
}
