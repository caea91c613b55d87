/*-------------------------------------------------------------------------
 *
 * rekey.c
 *		guard.rekey(): file the decisions made under other fingerprint rules
 *		under the hashes the rules in force give the same plans.
 *
 * A decision of guard.baseline is filed under the hashes of the rules in
 * force when it was made (column fingerprint_rules, NULL: rules 1).  After
 * guard.fingerprint_rules changed, the judge still applies it, by its texts
 * (baseline.c): a flagged plan whose normalized statement text (up to the
 * numbering of its $n) and plan shape are the decision's gets its status.
 * guard.rekey() files it under new hashes, so that it applies as any
 * decision does (also to plans nothing flags, and in guard.replan()):
 * for every plan of this database in the store (guard.plans: observed
 * under the rules in force) with the decision's texts, it copies the
 * decision (status, note, author, time, expiry) to the plan's hashes and
 * texts.  The literal-value and the prepared forms of a statement are two
 * plans of the store, and each gets its copy.
 *
 * Nothing is planned: a statement text in the baseline is the
 * application's, and planning it runs the functions the planner evaluates
 * (constant folding) with the caller's rights.  A decision whose statement
 * has not run since the rules changed is reported, and carried by a later
 * call; until then the judge matches it by its texts.  The old rows stay:
 * they still match statements not observed yet.  A decision under the
 * current rules already filed at the new hashes is never overridden.
 *
 * IDENTIFICATION
 *		src/rekey.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "guard.h"
#include "baseline.h"
#include "fingerprint.h"
#include "rekey.h"
#include "store.h"

PG_FUNCTION_INFO_V1(guard_rekey);

#define GUARD_REKEY_COLS 10
#define MASKED "<insufficient privilege>"

/* One decision made under other rules */
typedef struct RekeyRow
{
	uint64		query_hash;
	uint64		plan_hash;
	int			rules;
	Datum		status;			/* text */
	GuardStatus st;
	char	   *query;
	char	   *plan;
	bool		note_null;
	Datum		note;
	Datum		created_at;
	Datum		created_by;
	bool		expires_null;
	Datum		expires_at;
} RekeyRow;

/* Plans of the store, indexed by the keys of their texts */
typedef struct ObsKey
{
	uint64		key[2];
} ObsKey;

typedef struct ObsEntry
{
	ObsKey		key;
	int			first;			/* index into the plans, chained by next[] */
} ObsEntry;

typedef struct Observed
{
	GuardPlanRow *rows;
	int			nrows;
	int		   *next_full;		/* chains of the same texts and shape */
	int		   *next_text;		/* chains of the same statement text */
	HTAB	   *by_full;
	HTAB	   *by_text;
} Observed;

static int
cmp_rekey(const void *a, const void *b)
{
	const RekeyRow *x = (const RekeyRow *) a;
	const RekeyRow *y = (const RekeyRow *) b;

	return guard_cmp_report_order(x->query, x->query_hash, x->plan_hash,
								  y->query, y->query_hash, y->plan_hash);
}

/*
 * read_foreign: the rows of guard.baseline made under other fingerprint
 * rules (expired rejections left out), read with the statement's snapshot,
 * sorted for the report.
 */
static RekeyRow *
read_foreign(Oid relid, int *nrows)
{
	Relation	rel;
	TupleDesc	desc;
	Snapshot	snapshot;
	TableScanDesc scan;
	HeapTuple	tuple;
	AttrNumber	a_qh = get_attnum(relid, "query_hash");
	AttrNumber	a_ph = get_attnum(relid, "plan_hash");
	AttrNumber	a_status = get_attnum(relid, "status");
	AttrNumber	a_query = get_attnum(relid, "query");
	AttrNumber	a_plan = get_attnum(relid, "plan");
	AttrNumber	a_note = get_attnum(relid, "note");
	AttrNumber	a_created_at = get_attnum(relid, "created_at");
	AttrNumber	a_created_by = get_attnum(relid, "created_by");
	AttrNumber	a_expires = get_attnum(relid, "expires_at");
	AttrNumber	a_rules = get_attnum(relid, "fingerprint_rules");
	TimestampTz now = GetCurrentStatementStartTimestamp();
	Datum	   *values;
	bool	   *isnull;
	RekeyRow   *rows;
	int			n = 0;
	int			max = 64;

	if (a_qh == InvalidAttrNumber || a_ph == InvalidAttrNumber ||
		a_status == InvalidAttrNumber || a_query == InvalidAttrNumber ||
		a_plan == InvalidAttrNumber || a_note == InvalidAttrNumber ||
		a_created_at == InvalidAttrNumber || a_created_by == InvalidAttrNumber ||
		a_expires == InvalidAttrNumber || a_rules == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table guard.baseline has no column fingerprint_rules"),
				 errhint("Run ALTER EXTENSION guard UPDATE.")));

	rel = table_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	values = palloc(desc->natts * sizeof(Datum));
	isnull = palloc(desc->natts * sizeof(bool));
	rows = palloc(max * sizeof(RekeyRow));
	snapshot = RegisterSnapshot(ActiveSnapshotSet() ? GetActiveSnapshot() :
								GetTransactionSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		RekeyRow   *r;
		int			rules;
		char	   *status;

		CHECK_FOR_INTERRUPTS();
		heap_deform_tuple(tuple, desc, values, isnull);
		if (isnull[a_qh - 1] || isnull[a_ph - 1] || isnull[a_status - 1])
			continue;
		rules = isnull[a_rules - 1] ? 1 : DatumGetInt16(values[a_rules - 1]);
		if (rules == guard_fingerprint_rules)
			continue;
		status = TextDatumGetCString(values[a_status - 1]);
		if (strcmp(status, "approved") != 0 && !isnull[a_expires - 1] &&
			DatumGetTimestampTz(values[a_expires - 1]) <= now)
			continue;			/* an expired rejection is no decision */
		if (n >= max)
		{
			max *= 2;
			rows = repalloc(rows, max * sizeof(RekeyRow));
		}
		r = &rows[n++];
		memset(r, 0, sizeof(*r));
		r->query_hash = (uint64) DatumGetInt64(values[a_qh - 1]);
		r->plan_hash = (uint64) DatumGetInt64(values[a_ph - 1]);
		r->rules = rules;
		r->status = datumCopy(values[a_status - 1], false, -1);
		r->st = strcmp(status, "approved") == 0 ?
			GUARD_STATUS_APPROVED : GUARD_STATUS_REJECTED;
		r->query = isnull[a_query - 1] ? NULL : TextDatumGetCString(values[a_query - 1]);
		r->plan = isnull[a_plan - 1] ? NULL : TextDatumGetCString(values[a_plan - 1]);
		r->note_null = isnull[a_note - 1];
		if (!r->note_null)
			r->note = datumCopy(values[a_note - 1], false, -1);
		r->created_at = values[a_created_at - 1];
		r->created_by = datumCopy(values[a_created_by - 1], false, NAMEDATALEN);
		r->expires_null = isnull[a_expires - 1];
		if (!r->expires_null)
			r->expires_at = values[a_expires - 1];
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);

	qsort(rows, n, sizeof(RekeyRow), cmp_rekey);
	*nrows = n;
	return rows;
}

static HTAB *
obs_table(const char *name)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(ObsKey);
	ctl.entrysize = sizeof(ObsEntry);
	ctl.hcxt = CurrentMemoryContext;
	return hash_create(name, 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* chain plan i in table under key */
static void
obs_add(HTAB *table, int *next, const uint64 *key, int i)
{
	ObsKey		k;
	ObsEntry   *e;
	bool		found;

	k.key[0] = key[0];
	k.key[1] = key[1];
	e = hash_search(table, &k, HASH_ENTER, &found);
	next[i] = found ? e->first : -1;
	e->first = i;
}

static int
obs_first(HTAB *table, const uint64 *key)
{
	ObsKey		k;
	ObsEntry   *e;

	k.key[0] = key[0];
	k.key[1] = key[1];
	e = hash_search(table, &k, HASH_FIND, NULL);
	return e ? e->first : -1;
}

/* observe: the plans of this database in the store, by their texts */
static void
observe(Observed *o)
{
	int			i;

	o->rows = guard_store_snapshot(&o->nrows, true);
	o->next_full = palloc(Max(o->nrows, 1) * sizeof(int));
	o->next_text = palloc(Max(o->nrows, 1) * sizeof(int));
	o->by_full = obs_table("guard rekey, plans by texts");
	o->by_text = obs_table("guard rekey, plans by statement text");
	for (i = 0; i < o->nrows; i++)
	{
		GuardPlanRow *p = &o->rows[i];
		uint64		key[2];

		o->next_full[i] = o->next_text[i] = -1;
		if (p->dbid != MyDatabaseId || p->query == NULL || p->plan == NULL)
			continue;
		if (guard_baseline_texts_key(p->query, p->plan, key))
			obs_add(o->by_full, o->next_full, key, i);
		if (guard_baseline_texts_key(p->query, "", key))
			obs_add(o->by_text, o->next_text, key, i);
	}
}

/*
 * rekey_file: file decision r under the hashes and texts of plan p, under
 * the rules in force.  Returns NULL when it is filed there now (by this
 * call or an earlier one), else why not.
 */
static const char *
rekey_file(RekeyRow *r, GuardPlanRow *p)
{
	static const char *sql =
	"INSERT INTO guard.baseline "
	"  (query_hash, plan_hash, status, query, plan, note, created_at, created_by, "
	"   expires_at, fingerprint_rules, query_role) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
	"ON CONFLICT (query_hash, plan_hash) DO NOTHING";
	Oid			argtypes[11] = {INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TIMESTAMPTZOID, NAMEOID, TIMESTAMPTZOID, INT2OID, NAMEOID};
	Datum		values[11];
	char		nulls[11] = "           ";
	GuardStatus existing;
	char	   *role = GetUserNameFromId(p->userid, true);

	values[0] = Int64GetDatum((int64) p->query_hash);
	values[1] = Int64GetDatum((int64) p->plan_hash);
	values[2] = r->status;
	values[3] = CStringGetTextDatum(p->query);
	values[4] = CStringGetTextDatum(p->plan);
	if (r->note_null)
		nulls[5] = 'n';
	else
		values[5] = r->note;
	values[6] = r->created_at;
	values[7] = r->created_by;
	if (r->expires_null)
		nulls[8] = 'n';
	else
		values[8] = r->expires_at;
	values[9] = Int16GetDatum((int16) guard_fingerprint_rules);
	if (role != NULL)
		values[10] = DirectFunctionCall1(namein, CStringGetDatum(role));
	else
		nulls[10] = 'n';
	if (guard_baseline_write(sql, 11, argtypes, values, nulls, NULL) > 0)
		return NULL;

	/*
	 * A decision is filed there already: carried by an earlier call, or
	 * made under the current rules.  The cached copy knows the latter
	 * (rows this call wrote are not in it yet: judged NEW, so carried).
	 */
	existing = guard_baseline_status(p->query_hash, p->plan_hash);
	if (existing == GUARD_STATUS_NEW || existing == r->st)
		return NULL;
	return existing == GUARD_STATUS_APPROVED ?
		"plan approved under the current rules" :
		"plan rejected under the current rules";
}

/* One row of the report */
static void
emit(ReturnSetInfo *rsinfo, RekeyRow *r, bool visible, GuardPlanRow *p,
	 bool carried, const char *reason)
{
	Datum		values[GUARD_REKEY_COLS];
	bool		nulls[GUARD_REKEY_COLS];
	int			c = 0;

	memset(nulls, 0, sizeof(nulls));
	values[c++] = Int64GetDatum((int64) r->query_hash);
	values[c++] = Int64GetDatum((int64) r->plan_hash);
	values[c++] = Int16GetDatum((int16) r->rules);
	values[c++] = r->status;
	if (r->query == NULL)
		nulls[c++] = true;
	else
		values[c++] = CStringGetTextDatum(visible ? r->query : MASKED);
	if (p != NULL)
	{
		values[c++] = Int64GetDatum((int64) p->query_hash);
		values[c++] = Int64GetDatum((int64) p->plan_hash);
		/* what this call filed is not in the cached copy yet */
		values[c++] = CStringGetTextDatum(guard_status_name(carried ? r->st :
															guard_baseline_status(p->query_hash,
																				  p->plan_hash)));
	}
	else
	{
		nulls[c++] = true;
		nulls[c++] = true;
		nulls[c++] = true;
	}
	values[c++] = BoolGetDatum(carried);
	if (reason == NULL)
		nulls[c++] = true;
	else
		values[c++] = CStringGetTextDatum(reason);
	Assert(c == GUARD_REKEY_COLS);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * guard.rekey(): one row per (decision made under other rules, plan of the
 * store it concerns), or one row per decision that concerns none.
 * Revoked from PUBLIC.
 */
Datum
guard_rekey(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid;
	bool		visible;
	RekeyRow   *rows;
	int			nrows;
	Observed	obs;
	int			i;

	guard_store_require();
	relid = guard_baseline_require();

	InitMaterializedSRF(fcinfo, 0);
	visible = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
	rows = read_foreign(relid, &nrows);
	observe(&obs);

	for (i = 0; i < nrows; i++)
	{
		RekeyRow   *r = &rows[i];
		uint64		key[2];
		int			j;
		bool		any = false;

		CHECK_FOR_INTERRUPTS();
		if (r->query == NULL || r->plan == NULL ||
			strcmp(r->query, GUARD_NO_SOURCE_TEXT) == 0 ||
			!guard_baseline_texts_key(r->query, r->plan, key))
		{
			emit(rsinfo, r, visible, NULL, false, "no texts to match");
			continue;
		}

		/* the plans observed with the decision's texts and shape */
		for (j = obs_first(obs.by_full, key); j >= 0; j = obs.next_full[j])
		{
			const char *why = rekey_file(r, &obs.rows[j]);

			emit(rsinfo, r, visible, &obs.rows[j], why == NULL, why);
			any = true;
		}
		if (any)
			continue;

		/* the statement observed, planned otherwise */
		if (guard_baseline_texts_key(r->query, "", key))
			for (j = obs_first(obs.by_text, key); j >= 0; j = obs.next_text[j])
			{
				emit(rsinfo, r, visible, &obs.rows[j], false,
					 "observed with another plan");
				any = true;
			}
		if (!any)
			emit(rsinfo, r, visible, NULL, false,
				 "not observed under the current rules yet");
	}
	return (Datum) 0;
}
