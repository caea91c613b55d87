/*-------------------------------------------------------------------------
 *
 * baseline.c
 *		guard.baseline: the backend's cached copy, and the DBA's decisions.
 *
 * The baseline is an ordinary table (dumped by pg_dump, replicated to
 * standbys).  Each backend keeps a copy of the current database's baseline
 * in a local hash table and reads the table only when the copy is stale:
 * a statement-level trigger on the table sends a relcache invalidation for
 * it with every change, whatever path the change took (guard's functions,
 * pg_restore, a superuser's DML).  Invalidations are delivered to every
 * backend at its next statement and, through the commit record, to every
 * backend of every standby after replay.  So there is no catalog read per
 * query, and a decision made in one session takes effect everywhere at the
 * next statement.
 *
 * The copy is loaded with a plain heap scan, not SPI: loading happens
 * inside the planner hook, where running a query would recurse into
 * guard's own hooks.
 *
 * The decision functions write through SPI as the table's owner, so a role
 * granted EXECUTE on them needs no privilege on the table, and record the
 * role that called them.
 *
 * IDENTIFICATION
 *		src/baseline.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/dependency.h"
#include "catalog/pg_am.h"
#include "commands/extension.h"
#include "storage/lmgr.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/plancache.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "guard.h"
#include "baseline.h"
#include "incidents.h"
#include "policy.h"
#include "store.h"

PG_FUNCTION_INFO_V1(guard_baseline_changed);
PG_FUNCTION_INFO_V1(guard_approve);
PG_FUNCTION_INFO_V1(guard_reject);
PG_FUNCTION_INFO_V1(guard_approve_observed);

typedef struct BaselineKey
{
	uint64		query_hash;
	uint64		plan_hash;
} BaselineKey;

typedef struct BaselineEntry
{
	BaselineKey key;
	GuardStatus status;
} BaselineEntry;

/* statement -> what its approved plans read */
typedef struct StatementEntry
{
	uint64		query_hash;
	int			approved;		/* number of approved plans */
	List	   *seqscanned;		/* relation names read by Seq Scan */
	List	   *indexed;		/* relation names reached through an index */
	List	   *indexed_by;		/* for each of indexed: the plan (uint64 *) */
	uint64		first_plan;		/* an approved plan of the statement */
} StatementEntry;

static HTAB *baseline_plans = NULL;
static HTAB *baseline_statements = NULL;
static MemoryContext baseline_cxt = NULL;
static MemoryContext loading_cxt = NULL;	/* a copy being built */
static bool baseline_valid = false;
static Oid	baseline_relid = InvalidOid;	/* valid only with relid_known */
static bool relid_known = false;
static uint64 inval_count = 0;
static bool callback_registered = false;

/* Relcache callback: the table (or everything) changed: reload later. */
static void
baseline_relcache_cb(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == baseline_relid || !OidIsValid(baseline_relid))
	{
		bool		ours = OidIsValid(relid) && relid == baseline_relid;

		baseline_valid = false;
		guard_baseline_known_empty = false;
		guard_baseline_known_no_rejected = false;
		relid_known = false;	/* the extension may have been created or dropped */
		inval_count++;

		/*
		 * Verdicts travel with cached plans: re-plan them all so that a
		 * decision applies to prepared statements at their next execution.
		 * Only for our table, not for every relcache reset (PostgreSQL resets
		 * the plan cache itself on those).
		 */
		if (ours)
			ResetPlanCache();
	}
}

/*
 * OID of guard.baseline in this database, or InvalidOid.  Only the table
 * the guard extension created counts: a schema "guard" is not enough (any
 * database owner could create one, with a view named baseline), so the
 * relation must be an ordinary heap table that belongs to the extension
 * and has the expected columns.
 */
static Oid
baseline_table(void)
{
	if (!relid_known)
	{
		Oid			nsp = get_namespace_oid("guard", true);
		Oid			relid = OidIsValid(nsp) ? get_relname_relid("baseline", nsp) : InvalidOid;
		Oid			ext = get_extension_oid("guard", true);

		baseline_relid = InvalidOid;
		if (OidIsValid(relid) && OidIsValid(ext) &&
			get_rel_relkind(relid) == RELKIND_RELATION &&
			getExtensionOfObject(RelationRelationId, relid) == ext &&
			get_atttype(relid, 1) == INT8OID && get_atttype(relid, 2) == INT8OID &&
			get_atttype(relid, 3) == TEXTOID && get_atttype(relid, 5) == TEXTOID)
			baseline_relid = relid;
		relid_known = true;
	}
	return baseline_relid;
}

/* The two hash tables of a copy of the baseline, in cxt. */
static void
create_tables(MemoryContext cxt, HTAB **plans, HTAB **statements)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(BaselineKey);
	ctl.entrysize = sizeof(BaselineEntry);
	ctl.hcxt = cxt;
	*plans = hash_create("guard baseline plans", 256, &ctl,
						 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(StatementEntry);
	*statements = hash_create("guard baseline statements", 256, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * parse_shape: the relations a plan shape (fingerprint.c's format) reads by
 * Seq Scan and through an index.  Partition scans are named by parent.
 */
static void
parse_shape(const char *shape, List **seqscanned, List **indexed)
{
	const char *line = shape;

	while (line && *line)
	{
		const char *end = strchr(line, '\n');
		int			len = end ? end - line : strlen(line);
		char	   *l = pnstrdup(line, len);
		char	   *p = l;
		char	   *on;
		char	   *part;

		while (*p == ' ')
			p++;
		if (strncmp(p, "Parallel ", 9) == 0)
			p += 9;
		on = strstr(p, " on ");
		if (on)
		{
			char	   *rel = pstrdup(on + 4);

			if ((part = strstr(rel, " (partition)")) != NULL)
				*part = '\0';
			if (strncmp(p, "Seq Scan on ", 12) == 0)
				*seqscanned = lappend(*seqscanned, rel);
			else if (strncmp(p, "Index Scan ", 11) == 0 ||
					 strncmp(p, "Index Only Scan ", 16) == 0 ||
					 strncmp(p, "Bitmap Heap Scan ", 17) == 0)
				*indexed = lappend(*indexed, rel);
			else
				pfree(rel);
		}
		pfree(l);
		line = end ? end + 1 : NULL;
	}
}

/* Read guard.baseline into fresh local hash tables. */
static void
baseline_load(void)
{
	Oid			relid;
	uint64		start_count = inval_count;
	int64		nrejected = 0;
	HTAB	   *new_plans;
	HTAB	   *new_statements;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(baseline_relcache_cb, (Datum) 0);
		callback_registered = true;
	}

	/*
	 * Fail open rather than wait or fail: no snapshot can be taken in
	 * parallel mode, and a pending AccessExclusiveLock on the table (VACUUM
	 * FULL, ALTER EXTENSION) must not stall every planning.  The stale copy
	 * stays in use and is marked stale, so the next planning tries again.
	 */
	relid = IsTransactionState() ? baseline_table() : InvalidOid;
	if (OidIsValid(relid) &&
		(IsInParallelMode() || !ConditionalLockRelationOid(relid, AccessShareLock)))
	{
		if (baseline_plans != NULL)
			return;
		relid = InvalidOid;		/* no copy yet: start empty */
	}
	/*
	 * Build the new copy beside the old one and swap only when complete: a
	 * failure halfway keeps the old copy (see baseline_load_protected).
	 */
	if (loading_cxt != NULL)
		MemoryContextDelete(loading_cxt);
	loading_cxt = AllocSetContextCreate(TopMemoryContext, "guard baseline",
										ALLOCSET_SMALL_SIZES);

	create_tables(loading_cxt, &new_plans, &new_statements);

	if (OidIsValid(relid))
	{
		Relation	rel = table_open(relid, NoLock);	/* locked above */
		Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
		TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
		TupleDesc	desc = RelationGetDescr(rel);
		HeapTuple	tuple;
		/* heap_deform_tuple fills one slot per column of the table */
		Datum	   *values = palloc(desc->natts * sizeof(Datum));
		bool	   *isnull = palloc(desc->natts * sizeof(bool));

		while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
		{
			BaselineKey key;
			BaselineEntry *entry;
			char	   *status;
			bool		found;

			if (guard_debug_fault == GUARD_FAULT_BASELINE)
				elog(ERROR, "injected fault while reading guard.baseline (guard.debug_fault)");
			heap_deform_tuple(tuple, desc, values, isnull);
			if (isnull[0] || isnull[1] || isnull[2])
				continue;
			key.query_hash = (uint64) DatumGetInt64(values[0]);
			key.plan_hash = (uint64) DatumGetInt64(values[1]);
			status = TextDatumGetCString(values[2]);
			entry = hash_search(new_plans, &key, HASH_ENTER, &found);
			entry->status = strcmp(status, "approved") == 0 ?
				GUARD_STATUS_APPROVED : GUARD_STATUS_REJECTED;
			if (entry->status == GUARD_STATUS_REJECTED)
				nrejected++;
			if (entry->status == GUARD_STATUS_APPROVED)
			{
				StatementEntry *st = hash_search(new_statements, &key.query_hash,
												 HASH_ENTER, &found);

				if (!found)
				{
					st->approved = 0;
					st->seqscanned = NIL;
					st->indexed = NIL;
					st->indexed_by = NIL;
					st->first_plan = key.plan_hash;
				}
				st->approved++;
				/* column 5: plan shape */
				if (desc->natts >= 5 && !isnull[4])
				{
					char	   *shape = TextDatumGetCString(values[4]);
					MemoryContext old = MemoryContextSwitchTo(loading_cxt);

					parse_shape(shape, &st->seqscanned, &st->indexed);
					while (list_length(st->indexed_by) < list_length(st->indexed))
					{
						uint64	   *ph = palloc(sizeof(uint64));

						*ph = key.plan_hash;
						st->indexed_by = lappend(st->indexed_by, ph);
					}
					MemoryContextSwitchTo(old);
					pfree(shape);
				}
			}
			pfree(status);
		}
		table_endscan(scan);
		UnregisterSnapshot(snapshot);
		table_close(rel, AccessShareLock);
		pfree(values);
		pfree(isnull);
	}

	/* complete: swap the new copy in */
	if (baseline_cxt != NULL)
		MemoryContextDelete(baseline_cxt);
	baseline_cxt = loading_cxt;
	loading_cxt = NULL;
	baseline_plans = new_plans;
	baseline_statements = new_statements;

	/* an invalidation that arrived while loading means: load again */
	baseline_valid = (inval_count == start_count);
	guard_baseline_known_empty = baseline_valid &&
		hash_get_num_entries(baseline_plans) == 0;
	guard_baseline_known_no_rejected = baseline_valid && nrejected == 0;
}

/* An empty copy, for when the table cannot be read at all. */
static void
baseline_create_empty(void)
{
	baseline_cxt = AllocSetContextCreate(TopMemoryContext, "guard baseline",
										 ALLOCSET_SMALL_SIZES);
	create_tables(baseline_cxt, &baseline_plans, &baseline_statements);
}

/*
 * Load inside an internal subtransaction: the load runs in the planner
 * hook, where guard fails open, and an error in the middle of a heap scan
 * must release what the scan held (buffer pins and locks, the snapshot,
 * the relation) before the statement goes on.  On failure the copy stays
 * stale and empty, a WARNING says why, and the next planning tries again.
 * Cancels and the like are re-thrown.
 */
static void
baseline_load_protected(void)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	if (!IsTransactionState() || IsInParallelMode() || IsAbortedTransactionBlockState())
	{
		baseline_load();		/* loads nothing in these states */
		return;
	}

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		baseline_load();
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;

		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
			edata->sqlerrcode == ERRCODE_CRASH_SHUTDOWN ||
			edata->sqlerrcode == ERRCODE_T_R_SERIALIZATION_FAILURE ||
			edata->elevel > ERROR)
			ReThrowError(edata);

		/* keep the previous copy, stale; without one, judge with an empty one */
		if (loading_cxt != NULL)
		{
			MemoryContextDelete(loading_cxt);
			loading_cxt = NULL;
		}
		baseline_valid = false;
		guard_baseline_known_empty = false;
		guard_baseline_known_no_rejected = false;
		if (baseline_plans == NULL)
			baseline_create_empty();
		ereport(WARNING,
				(errmsg("guard could not read guard.baseline: %s", edata->message),
				 errdetail("Plans are judged without the baseline until it can be read.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

static inline void
baseline_ensure(void)
{
	if (!baseline_valid || baseline_plans == NULL)
		baseline_load_protected();
}

/*
 * guard_baseline_status: the DBA's decision on a plan of the current
 * database.  Reads the table only when the cached copy is stale.
 */
GuardStatus
guard_baseline_status(uint64 query_hash, uint64 plan_hash)
{
	BaselineKey key;
	BaselineEntry *entry;

	baseline_ensure();
	key.query_hash = query_hash;
	key.plan_hash = plan_hash;
	entry = hash_search(baseline_plans, &key, HASH_FIND, NULL);
	return entry ? entry->status : GUARD_STATUS_NEW;
}

/*
 * Set whenever the cached copy is known to be empty: the planner asks at
 * every planning, so the answer is a variable read (guard.h).
 */
bool		guard_baseline_known_empty = false;

/* Likewise: the cached copy holds no rejected plan (the common case). */
bool		guard_baseline_known_no_rejected = false;

/* guard_baseline_no_rejected_slow: no rejected plan in this database? */
bool
guard_baseline_no_rejected_slow(void)
{
	baseline_ensure();
	return guard_baseline_known_no_rejected;
}

/* guard_baseline_is_empty_slow: no decision at all in this database? */
bool
guard_baseline_is_empty_slow(void)
{
	baseline_ensure();
	return hash_get_num_entries(baseline_plans) == 0;
}

/*
 * guard_baseline_approved_reads: does an approved plan of the statement
 * read relname through an index (by_index) or by Seq Scan?
 */
bool
guard_baseline_approved_reads(uint64 query_hash, const char *relname, bool by_index)
{
	StatementEntry *st;
	ListCell   *lc;

	baseline_ensure();
	st = hash_search(baseline_statements, &query_hash, HASH_FIND, NULL);
	if (st == NULL)
		return false;
	foreach(lc, by_index ? st->indexed : st->seqscanned)
		if (strcmp((char *) lfirst(lc), relname) == 0)
			return true;
	return false;
}

/*
 * guard_baseline_approved_plan: the approved plan of the statement that
 * reaches relname through an index, else any approved plan of it, else 0
 * (for an incident's baseline_plan_hash).
 */
uint64
guard_baseline_approved_plan(uint64 query_hash, const char *relname)
{
	StatementEntry *st;
	ListCell   *lc;
	ListCell   *pc;

	baseline_ensure();
	st = hash_search(baseline_statements, &query_hash, HASH_FIND, NULL);
	if (st == NULL)
		return 0;
	if (relname != NULL)
		forboth(lc, st->indexed, pc, st->indexed_by)
			if (strcmp((char *) lfirst(lc), relname) == 0)
				return *(uint64 *) lfirst(pc);
	return st->first_plan;
}

/* guard_baseline_has_approved: does the statement have an approved plan? */
bool
guard_baseline_has_approved(uint64 query_hash)
{
	baseline_ensure();
	return hash_search(baseline_statements, &query_hash, HASH_FIND, NULL) != NULL;
}


/*
 * Trigger on guard.baseline (statement level, any change): tell every
 * backend, here and on standbys, to reload its copy.
 */
Datum
guard_baseline_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("guard.baseline_changed() must be called as a trigger")));
	CacheInvalidateRelcache(trigdata->tg_relation);
	PG_RETURN_POINTER(NULL);
}

/* ---------------------------------------------------------------------
 * Decisions
 * ---------------------------------------------------------------------
 */

/*
 * Run an INSERT ... ON CONFLICT into guard.baseline as the table's owner.
 * Returns the number of rows written.
 */
static uint64
baseline_write(const char *sql, int nargs, Oid *argtypes, Datum *values,
			   const char *nulls)
{
	Oid			relid = baseline_table();
	Oid			owner;
	Oid			save_userid;
	int			save_sec;
	HeapTuple	tp;
	int			ret;
	uint64		processed;
	int			nestlevel;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table guard.baseline does not exist in this database"),
				 errhint("Run ALTER EXTENSION guard UPDATE.")));
	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);

	/* the caller's grant on the function is the permission; write as owner */
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/*
	 * guard's own statement is not the application's: neither judged nor
	 * recorded.  guard.mode is off for it alone, the way a function's SET
	 * clause works (undone at the nest level's end, or by the abort).
	 */
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("guard.mode", "off", PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	ret = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT && ret != SPI_OK_UPDATE)
		elog(ERROR, "SPI_execute_with_args returned %d", ret);
	processed = SPI_processed;
	AtEOXact_GUC(true, nestlevel);
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec);
	return processed;
}

static const char *decide_sql =
"INSERT INTO guard.baseline AS b "
"  (query_hash, plan_hash, status, query, plan, note, created_at, created_by) "
"VALUES ($1, $2, $3, $4, $5, $6, pg_catalog.now(), $7) "
"ON CONFLICT (query_hash, plan_hash) DO UPDATE SET "
"  status = excluded.status, note = excluded.note, "
"  query = COALESCE(excluded.query, b.query), "
"  plan = COALESCE(excluded.plan, b.plan), "
"  created_at = excluded.created_at, created_by = excluded.created_by";

/* Record one decision, with the texts of the observed plan if known. */
static void
decide(FunctionCallInfo fcinfo, GuardStatus status)
{
	uint64		query_hash;
	uint64		plan_hash;
	Oid			argtypes[7] = {INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, NAMEOID};
	Datum		values[7];
	char		nulls[7] = "       ";
	GuardPlanRow row;
	char	   *who = GetUserNameFromId(GetUserId(), false);

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("query_hash and plan_hash must not be null")));
	query_hash = (uint64) PG_GETARG_INT64(0);
	plan_hash = (uint64) PG_GETARG_INT64(1);

	values[0] = Int64GetDatum((int64) query_hash);
	values[1] = Int64GetDatum((int64) plan_hash);
	values[2] = CStringGetTextDatum(guard_status_name(status));
	if (guard_store_ready() && guard_store_get(MyDatabaseId, query_hash, plan_hash, &row) &&
		row.query != NULL)
	{
		values[3] = CStringGetTextDatum(row.query);
		values[4] = CStringGetTextDatum(row.plan);
	}
	else
		nulls[3] = nulls[4] = 'n';
	if (PG_ARGISNULL(2))
		nulls[5] = 'n';
	else
		values[5] = PG_GETARG_DATUM(2);
	values[6] = DirectFunctionCall1(namein, CStringGetDatum(who));

	(void) baseline_write(decide_sql, 7, argtypes, values, nulls);
	/* the plan's incidents are resolved when this transaction commits */
	if (guard_store_ready())
		guard_incidents_resolve_at_commit(query_hash, plan_hash);
}

/* guard.approve(query_hash, plan_hash [, note]) */
Datum
guard_approve(PG_FUNCTION_ARGS)
{
	decide(fcinfo, GUARD_STATUS_APPROVED);
	PG_RETURN_VOID();
}

/* guard.reject(query_hash, plan_hash [, note]) */
Datum
guard_reject(PG_FUNCTION_ARGS)
{
	decide(fcinfo, GUARD_STATUS_REJECTED);
	PG_RETURN_VOID();
}

/*
 * guard.approve_observed([note]): adopt every plan observed in this
 * database that has no decision yet, no open incident, and that guard
 * would not flag (the initial capture after a warm-up).  One INSERT for all of them (one
 * invalidation, one reload), ON CONFLICT DO NOTHING so that no decision is
 * ever overridden.  Returns how many were adopted.
 */
Datum
guard_approve_observed(PG_FUNCTION_ARGS)
{
	GuardPlanRow *rows;
	int			nrows;
	int			i;
	int			n = 0;
	Datum	   *qh,
			   *ph,
			   *qt,
			   *pt;
	bool	   *qt_null,
			   *pt_null;
	int			dims[1];
	int			lbs[1] = {1};
	Oid			argtypes[6] = {INT8ARRAYOID, INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTOID, NAMEOID};
	Datum		values[6];
	char		nulls[6] = "      ";
	uint64	   *open;
	int			nopen;
	static const char *sql =
	"INSERT INTO guard.baseline "
	"  (query_hash, plan_hash, status, query, plan, note, created_at, created_by) "
	"SELECT u.q, u.p, 'approved', u.qt, u.pt, $5, pg_catalog.now(), $6 "
	"  FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
	"                 pg_catalog.unnest($3), pg_catalog.unnest($4)) AS u(q, p, qt, pt) "
	"ON CONFLICT (query_hash, plan_hash) DO NOTHING";

	guard_store_require();
	open = guard_incidents_open_plans(MyDatabaseId, &nopen);
	rows = guard_store_snapshot(&nrows, true);
	qh = palloc(Max(nrows, 1) * sizeof(Datum));
	ph = palloc(Max(nrows, 1) * sizeof(Datum));
	qt = palloc(Max(nrows, 1) * sizeof(Datum));
	pt = palloc(Max(nrows, 1) * sizeof(Datum));
	qt_null = palloc0(Max(nrows, 1) * sizeof(bool));
	pt_null = palloc0(Max(nrows, 1) * sizeof(bool));
	for (i = 0; i < nrows; i++)
	{
		GuardPlanRow *r = &rows[i];

		if (r->dbid != MyDatabaseId ||
			guard_baseline_status(r->query_hash, r->plan_hash) != GUARD_STATUS_NEW ||
			guard_policy_flags_row(r) ||
			guard_incidents_pairs_contain(open, nopen, r->query_hash, r->plan_hash))
			continue;
		qh[n] = Int64GetDatum((int64) r->query_hash);
		ph[n] = Int64GetDatum((int64) r->plan_hash);
		if (r->query)
		{
			qt[n] = CStringGetTextDatum(r->query);
			pt[n] = CStringGetTextDatum(r->plan);
		}
		else
			qt_null[n] = pt_null[n] = true;
		n++;
	}
	if (n == 0)
		PG_RETURN_INT64(0);

	dims[0] = n;
	values[0] = PointerGetDatum(construct_array(qh, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[1] = PointerGetDatum(construct_array(ph, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[2] = PointerGetDatum(construct_md_array(qt, qt_null, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
	values[3] = PointerGetDatum(construct_md_array(pt, pt_null, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
	if (PG_ARGISNULL(0))
		nulls[4] = 'n';
	else
		values[4] = PG_GETARG_DATUM(0);
	values[5] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(GetUserId(), false)));

	PG_RETURN_INT64((int64) baseline_write(sql, 6, argtypes, values, nulls));
}
