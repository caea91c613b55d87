/*-------------------------------------------------------------------------
 *
 * baseline.c
 *		guard.baseline: the backend's cached copy of the DBA's decisions, and
 *		the low-level write into the table.
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
 * next statement.  A rejection may expire (column expires_at, 0.4): the
 * copy keeps the expiry and compares it with the statement's start time.
 *
 * The copy is loaded with a plain heap scan, not SPI: loading happens
 * inside the planner hook, where running a query would recurse into
 * guard's own hooks.  A load that cannot complete (the table is locked,
 * an error) leaves the copy stale and is retried at the next use; until
 * then the last complete copy is used, and without one the baseline is
 * unknown (guard_baseline_available() is false): never "everything is new".
 *
 * The SQL functions that make decisions live in review.c; they write
 * through guard_baseline_write(), as the table's owner.
 *
 * IDENTIFICATION
 *		src/baseline.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

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
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "guard.h"
#include "baseline.h"
#include "fingerprint.h"

PG_FUNCTION_INFO_V1(guard_baseline_changed);

typedef struct BaselineKey
{
	uint64		query_hash;
	uint64		plan_hash;
} BaselineKey;

typedef struct BaselineEntry
{
	BaselineKey key;
	GuardStatus status;
	TimestampTz expires_at;		/* a rejection's expiry; 0: none */
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
static bool baseline_valid = false;	/* the copy is complete and current */
static TimestampTz next_expiry = 0; /* earliest rejection expiry ahead; 0: none */
static bool verdicts_stale = false; /* plans judged while the copy was stale */
static bool load_failed = false;	/* the last attempt failed, ... */
static TimestampTz load_failed_at = 0;	/* ... in the statement that started then */
static HTAB *baseline_foreign = NULL;	/* decisions under other rules, by text */
static HTAB *baseline_foreign_hash = NULL;	/* ... and by hashes */
static int	foreign_unmatchable = 0;	/* such decisions without texts */
static Oid	baseline_relid = InvalidOid;	/* valid only with relid_known */
static bool relid_known = false;
static uint64 inval_count = 0;

/* Relcache callback: the table (or everything) changed: reload later. */
void
guard_baseline_relcache_inval(Oid relid)
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
			if (strncmp(p, "Seq Scan on ", 12) == 0 || strncmp(p, "Sample Scan on ", 15) == 0)
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

/*
 * Decisions made under other fingerprint rules (guard.fingerprint_rules)
 * than the server's have hashes this server never computes.  Until
 * guard.rekey carries them, they are matched by what a decision is
 * independent of the rules: its statement text, up to the numbering of its
 * $n (a statement sent with literal values and the same statement prepared
 * normalize alike but for that), and its plan shape, with the children of
 * Append, Merge Append, BitmapAnd and BitmapOr in an order of their own
 * (the shape lists them in the order of their hashes, which the rules
 * change).  The key is a 128-bit hash of both under seeds drawn at random
 * per backend, so a statement cannot be crafted to collide with an approved
 * one.  A text that may have been clipped (at the store's or an incident's
 * limit) matches nothing: its end, where a statement could differ, is gone.
 */
typedef struct ForeignKey
{
	uint64		h1;
	uint64		h2;
} ForeignKey;

typedef struct ForeignEntry
{
	ForeignKey	key;
	bool		approved;		/* some decision with these texts approves */
	bool		rejected;		/* some decision with these texts rejects ... */
	TimestampTz rejected_until; /* ... until then (0: for good) */
	uint64		query_hash;		/* the decision that applies, for messages */
	uint64		plan_hash;
	int			rules;
} ForeignEntry;

/* exact hashes of a decision under other rules: incidents made then */
typedef struct ForeignHashEntry
{
	BaselineKey key;
	int			rules;
	GuardStatus status;
	TimestampTz expires_at;
} ForeignHashEntry;

static uint64 foreign_seed[2];
static bool foreign_seeded = false;

/* the shape of a plan, one node per line, children indented two spaces */
typedef struct ShapeLine
{
	const char *text;			/* the line without its indentation */
	int			len;
	int			depth;
} ShapeLine;

static bool
is_set_node(const ShapeLine *l)
{
	static const char *const names[] = {"Append", "Parallel Append", "Merge Append",
	"BitmapAnd", "BitmapOr"};
	int			i;

	for (i = 0; i < lengthof(names); i++)
	{
		int			n = strlen(names[i]);

		if (l->len >= n && strncmp(l->text, names[i], n) == 0 &&
			(l->len == n || l->text[n] == ' '))
			return true;
	}
	return false;
}

static int
cmp_cstring(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * canonical_subtree: lines[i] and its descendants as text, a set node's
 * child subtrees sorted.  Sets *next to the line after the subtree.
 */
static char *
canonical_subtree(const ShapeLine *lines, int n, int i, int *next)
{
	StringInfoData buf;
	int			depth = lines[i].depth;
	int			j = i + 1;
	char	  **children = NULL;
	int			nchildren = 0;
	int			k;

	check_stack_depth();
	initStringInfo(&buf);
	appendStringInfo(&buf, "%d:", depth);
	appendBinaryStringInfo(&buf, lines[i].text, lines[i].len);
	appendStringInfoChar(&buf, '\n');
	while (j < n && lines[j].depth > depth)
	{
		char	   *child = canonical_subtree(lines, n, j, &j);

		children = children ? repalloc(children, (nchildren + 1) * sizeof(char *)) :
			palloc(sizeof(char *));
		children[nchildren++] = child;
	}
	if (nchildren > 1 && is_set_node(&lines[i]))
		qsort(children, nchildren, sizeof(char *), cmp_cstring);
	for (k = 0; k < nchildren; k++)
	{
		appendStringInfoString(&buf, children[k]);
		pfree(children[k]);
	}
	if (children)
		pfree(children);
	*next = j;
	return buf.data;
}

/* canonical_shape: the shape with every set node's children sorted */
static void
canonical_shape(const char *plan, StringInfo out)
{
	ShapeLine  *lines;
	int			n = 0;
	int			max = 16;
	const char *p = plan;
	int			i;

	lines = palloc(max * sizeof(ShapeLine));
	while (*p)
	{
		const char *eol = strchr(p, '\n');
		int			spaces = 0;

		if (eol == NULL)
			eol = p + strlen(p);
		while (p + spaces < eol && p[spaces] == ' ')
			spaces++;
		if (n >= max)
		{
			max *= 2;
			lines = repalloc(lines, max * sizeof(ShapeLine));
		}
		lines[n].text = p + spaces;
		lines[n].len = eol - p - spaces;
		lines[n].depth = spaces / 2;
		n++;
		p = *eol ? eol + 1 : eol;
	}
	for (i = 0; i < n;)
	{
		char	   *tree = canonical_subtree(lines, n, i, &i);

		appendStringInfoString(out, tree);
		pfree(tree);
	}
	pfree(lines);
}

/*
 * foreign_key: the key of a statement text and plan shape; false when
 * either may have been clipped (then nothing may match it).
 */
static bool
foreign_key(const char *query, const char *plan, ForeignKey *key)
{
	StringInfoData buf;

	if (guard_text_maybe_clipped(query) || guard_text_maybe_clipped(plan))
		return false;
	if (!foreign_seeded)
	{
		if (!pg_strong_random(foreign_seed, sizeof(foreign_seed)))
			elog(ERROR, "could not generate random seeds");
		foreign_seeded = true;
	}
	initStringInfo(&buf);
	guard_text_params_unnumbered(query, &buf);
	appendStringInfoChar(&buf, '\0');
	canonical_shape(plan, &buf);
	key->h1 = hash_bytes_extended((unsigned char *) buf.data, buf.len,
								  foreign_seed[0]);
	key->h2 = hash_bytes_extended((unsigned char *) buf.data, buf.len,
								  foreign_seed[1]);
	pfree(buf.data);
	return true;
}

/* a hash table of the copy being built */
static HTAB *
loading_table(const char *name, Size keysize, Size entrysize)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = loading_cxt;
	return hash_create(name, 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * foreign_add: file one decision made under other fingerprint rules (rules)
 * in *by_text by its texts (columns 4 and 5) and in *by_hash by its
 * hashes (both created in loading_cxt on first use).  An expired rejection
 * is skipped.  An approval without texts is counted in *unmatchable: it may
 * approve any plan.
 */
static void
foreign_add(HTAB **by_text, HTAB **by_hash, TupleDesc desc, Datum *values,
			bool *isnull, GuardStatus status, int rules,
			AttrNumber expires_attnum, TimestampTz now, int *unmatchable)
{
	TimestampTz expires_at = 0;
	ForeignKey	key;
	ForeignEntry *entry;
	ForeignHashEntry *hentry;
	BaselineKey hkey;
	bool		found;
	bool		keyed = false;
	bool		texts = false;

	if (status == GUARD_STATUS_REJECTED && expires_attnum != InvalidAttrNumber &&
		!isnull[expires_attnum - 1])
	{
		expires_at = DatumGetTimestampTz(values[expires_attnum - 1]);
		if (expires_at <= now)
			return;
		if (expires_at == 0)
			expires_at = 1;
	}

	if (*by_hash == NULL)
		*by_hash = loading_table("guard baseline, other rules, by hash",
								 sizeof(BaselineKey), sizeof(ForeignHashEntry));
	memset(&hkey, 0, sizeof(hkey));
	hkey.query_hash = (uint64) DatumGetInt64(values[0]);
	hkey.plan_hash = (uint64) DatumGetInt64(values[1]);
	hentry = hash_search(*by_hash, &hkey, HASH_ENTER, &found);
	hentry->rules = rules;
	hentry->status = status;
	hentry->expires_at = expires_at;

	if (desc->natts >= 5 && !isnull[3] && !isnull[4])
	{
		char	   *query = TextDatumGetCString(values[3]);
		char	   *plan = TextDatumGetCString(values[4]);

		if (strcmp(query, GUARD_NO_SOURCE_TEXT) != 0)
		{
			texts = true;
			keyed = foreign_key(query, plan, &key);
		}
		pfree(query);
		pfree(plan);
	}
	if (!keyed)
	{
		/*
		 * An approval without texts may be about any plan: counted.  One
		 * whose texts may have been clipped matches nothing, and is not
		 * counted (an application could otherwise switch block off with a
		 * statement of the right length).  A rejection cannot approve
		 * anything.
		 */
		if (status == GUARD_STATUS_APPROVED && !texts)
			(*unmatchable)++;
		return;
	}

	if (*by_text == NULL)
		*by_text = loading_table("guard baseline, other rules",
								 sizeof(ForeignKey), sizeof(ForeignEntry));
	entry = hash_search(*by_text, &key, HASH_ENTER, &found);
	if (!found)
	{
		entry->approved = false;
		entry->rejected = false;
		entry->rejected_until = 0;
		entry->query_hash = hkey.query_hash;
		entry->plan_hash = hkey.plan_hash;
		entry->rules = rules;
	}
	if (status == GUARD_STATUS_APPROVED)
		entry->approved = true;
	else
	{
		/* the longest rejection (0: for good) */
		if (!entry->rejected)
			entry->rejected_until = expires_at;
		else if (entry->rejected_until != 0)
			entry->rejected_until = expires_at == 0 ? 0 :
				Max(entry->rejected_until, expires_at);
		entry->rejected = true;
		/* the rejected decision names the entry */
		entry->query_hash = hkey.query_hash;
		entry->plan_hash = hkey.plan_hash;
		entry->rules = rules;
	}
}

/*
 * Read guard.baseline into fresh local hash tables and swap them in.
 * Returns false, changing nothing, when the table cannot be read now
 * (outside a transaction, no snapshot in parallel mode, or a conflicting
 * lock held or awaited: a pending AccessExclusiveLock of VACUUM FULL or
 * ALTER EXTENSION must not stall every planning).  Outside parallel mode
 * the caller runs this in a subtransaction; in parallel mode errors
 * propagate.
 */
static bool
baseline_load(void)
{
	Oid			relid;
	uint64		start_count = inval_count;
	int64		nrejected = 0;
	int			nunmatchable = 0;
	HTAB	   *new_plans;
	HTAB	   *new_foreign = NULL;
	HTAB	   *new_foreign_hash = NULL;
	HTAB	   *new_statements;
	TimestampTz now = GetCurrentStatementStartTimestamp();
	TimestampTz first_expiry = 0;
	bool		parallel = IsInParallelMode();

	if (!IsTransactionState() || IsAbortedTransactionBlockState())
		return false;
	/* in parallel mode only the active snapshot can be used */
	if (parallel && !ActiveSnapshotSet())
		return false;

	relid = baseline_table();
	if (OidIsValid(relid) && !ConditionalLockRelationOid(relid, AccessShareLock))
		return false;

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
		Snapshot	snapshot = RegisterSnapshot(parallel ? GetActiveSnapshot() :
												GetLatestSnapshot());
		TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
		TupleDesc	desc = RelationGetDescr(rel);
		AttrNumber	expires_attnum = get_attnum(relid, "expires_at");
		AttrNumber	rules_attnum = get_attnum(relid, "fingerprint_rules");
		HeapTuple	tuple;

		/* heap_deform_tuple fills one slot per column of the table */
		Datum	   *values = palloc(desc->natts * sizeof(Datum));
		bool	   *isnull = palloc(desc->natts * sizeof(bool));

		if (expires_attnum != InvalidAttrNumber &&
			get_atttype(relid, expires_attnum) != TIMESTAMPTZOID)
			expires_attnum = InvalidAttrNumber;
		if (rules_attnum != InvalidAttrNumber &&
			get_atttype(relid, rules_attnum) != INT2OID)
			rules_attnum = InvalidAttrNumber;
		while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
		{
			BaselineKey key;
			BaselineEntry *entry;
			char	   *status;
			bool		found;
			int			rules;

			if (guard_debug_fault == GUARD_FAULT_BASELINE)
				elog(ERROR, "injected fault while reading guard.baseline (guard.debug_fault)");
			heap_deform_tuple(tuple, desc, values, isnull);
			if (isnull[0] || isnull[1] || isnull[2])
				continue;

			/*
			 * A decision made under other fingerprint rules (NULL, or a
			 * table from before 0.4 without the column: rules 1) has
			 * hashes this server never computes: filed by its texts
			 * (foreign_key), or counted when it has none.
			 */
			rules = rules_attnum == InvalidAttrNumber ? 1 :
				isnull[rules_attnum - 1] ? 1 : DatumGetInt16(values[rules_attnum - 1]);
			if (rules != guard_fingerprint_rules)
			{
				status = TextDatumGetCString(values[2]);
				foreign_add(&new_foreign, &new_foreign_hash, desc, values, isnull,
							strcmp(status, "approved") == 0 ?
							GUARD_STATUS_APPROVED : GUARD_STATUS_REJECTED,
							rules, expires_attnum, now, &nunmatchable);
				pfree(status);
				continue;
			}
			memset(&key, 0, sizeof(key));
			key.query_hash = (uint64) DatumGetInt64(values[0]);
			key.plan_hash = (uint64) DatumGetInt64(values[1]);
			status = TextDatumGetCString(values[2]);
			entry = hash_search(new_plans, &key, HASH_ENTER, &found);
			entry->status = strcmp(status, "approved") == 0 ?
				GUARD_STATUS_APPROVED : GUARD_STATUS_REJECTED;
			entry->expires_at = 0;
			if (entry->status == GUARD_STATUS_REJECTED)
			{
				nrejected++;
				if (expires_attnum != InvalidAttrNumber &&
					!isnull[expires_attnum - 1])
				{
					entry->expires_at = DatumGetTimestampTz(values[expires_attnum - 1]);
					/* never 0, which means "no expiry" */
					if (entry->expires_at == 0)
						entry->expires_at = 1;
					if (entry->expires_at > now &&
						(first_expiry == 0 || entry->expires_at < first_expiry))
						first_expiry = entry->expires_at;
				}
			}
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
	next_expiry = first_expiry;
	baseline_foreign = new_foreign;
	baseline_foreign_hash = new_foreign_hash;
	foreign_unmatchable = nunmatchable;

	/* an invalidation that arrived while loading means: load again */
	baseline_valid = (inval_count == start_count);
	guard_baseline_known_empty = baseline_valid &&
		hash_get_num_entries(baseline_plans) == 0;
	guard_baseline_known_no_rejected = baseline_valid && nrejected == 0;

	/*
	 * Plans judged while the copy was stale or missing carry verdicts made
	 * without the current baseline: re-plan them (cached plans) now that it
	 * is known.
	 */
	if (baseline_valid && verdicts_stale)
	{
		verdicts_stale = false;
		ResetPlanCache();
	}
	return true;
}

/*
 * Load, protected: the load runs in the planner hook, where guard fails
 * open, and an error in the middle of a heap scan must release what the
 * scan held (buffer pins and locks, the snapshot, the relation) before the
 * statement goes on: so it runs inside an internal subtransaction.  On
 * failure the previous copy stays in use (or none: the baseline is
 * unknown), stale, a WARNING says why, and the next use tries again.
 * Cancels and the like are re-thrown.
 *
 * In parallel mode (a function running in a parallel worker or under a
 * Gather) no subtransaction can be started: the load runs bare, and an
 * error fails the statement.  Nothing an application role controls makes
 * reading the table fail.
 */
static void
baseline_load_protected(void)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool loaded = false;

	if (!IsTransactionState() || IsAbortedTransactionBlockState())
		return;					/* nothing can be read; stay stale */
	if (IsInParallelMode())
	{
		loaded = baseline_load();
		if (!loaded)
			verdicts_stale = true;
		load_failed = !loaded;
		load_failed_at = GetCurrentStatementStartTimestamp();
		return;
	}

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		loaded = baseline_load();
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

		/* keep the previous copy, stale; without one the baseline is unknown */
		if (loading_cxt != NULL)
		{
			MemoryContextDelete(loading_cxt);
			loading_cxt = NULL;
		}
		baseline_valid = false;
		guard_baseline_known_empty = false;
		guard_baseline_known_no_rejected = false;
		ereport(WARNING,
				(errmsg("guard could not read guard.baseline: %s", edata->message),
				 baseline_plans != NULL ?
				 errdetail("Plans are judged against the copy of the baseline read earlier until the table can be read again.") :
				 errdetail("Sequential scans are not judged until the table can be read.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	if (!loaded)
		verdicts_stale = true;
	load_failed = !loaded;
	load_failed_at = GetCurrentStatementStartTimestamp();
}

/*
 * A rejection expired since the copy was read: re-plan cached plans (their
 * verdicts said "rejected") and look for the next expiry.  Rare, and no
 * catalog read: the copy holds the expiries.
 */
static void
baseline_expire(TimestampTz now)
{
	HASH_SEQ_STATUS seq;
	BaselineEntry *entry;
	TimestampTz first = 0;

	hash_seq_init(&seq, baseline_plans);
	while ((entry = hash_seq_search(&seq)) != NULL)
		if (entry->expires_at > now && (first == 0 || entry->expires_at < first))
			first = entry->expires_at;
	next_expiry = first;
	ResetPlanCache();
}

/*
 * Make the copy current if it is stale, but try at most once per statement
 * after a failed attempt: a statement asks many times, and a locked table
 * or a failing read stays so for a while (one WARNING, not one per plan).
 */
static inline void
baseline_ensure(void)
{
	if ((!baseline_valid || baseline_plans == NULL) &&
		!(load_failed && load_failed_at == GetCurrentStatementStartTimestamp()))
		baseline_load_protected();
	if (next_expiry != 0 && baseline_plans != NULL &&
		GetCurrentStatementStartTimestamp() >= next_expiry)
		baseline_expire(GetCurrentStatementStartTimestamp());
}

/*
 * guard_baseline_available: is there a copy of the baseline to judge
 * plans against (possibly stale, while the table cannot be read)?  False
 * when this backend has not been able to read the table yet: then no plan
 * is known to be approved, and the judge must not report the plan's
 * sequential scans as new.  In a database without the extension the
 * baseline is known to be empty: true.
 */
bool
guard_baseline_available(void)
{
	baseline_ensure();
	return baseline_plans != NULL;
}

/*
 * guard_baseline_status: the DBA's decision on a plan of the current
 * database: an expired rejection is no decision.  Reads the table only when
 * the cached copy is stale; GUARD_STATUS_NEW when the baseline is unknown.
 */
GuardStatus
guard_baseline_status(uint64 query_hash, uint64 plan_hash)
{
	BaselineKey key;
	BaselineEntry *entry;

	baseline_ensure();
	if (baseline_plans == NULL)
		return GUARD_STATUS_NEW;
	memset(&key, 0, sizeof(key));
	key.query_hash = query_hash;
	key.plan_hash = plan_hash;
	entry = hash_search(baseline_plans, &key, HASH_FIND, NULL);
	if (entry == NULL)
		return GUARD_STATUS_NEW;
	if (entry->expires_at != 0 &&
		entry->expires_at <= GetCurrentStatementStartTimestamp())
		return GUARD_STATUS_NEW;
	return entry->status;
}

/*
 * guard_baseline_has_foreign: does this database have decisions made under
 * other fingerprint rules than the server's, with texts to match them by?
 */
bool
guard_baseline_has_foreign(void)
{
	baseline_ensure();
	return baseline_plans != NULL && baseline_foreign != NULL;
}

/*
 * guard_baseline_foreign_match: the decision made under other fingerprint
 * rules on the statement of text query (normalized, as stored) planned as
 * plan (its shape, as stored); GUARD_STATUS_NEW if none, or if either
 * text may have been clipped.  A rejection in force wins over an approval
 * with the same texts.  Fills the matched decision's hashes and rules (for
 * messages) when m is not NULL.  The caller asks only for a plan without a
 * decision under the rules in force.
 */
GuardStatus
guard_baseline_foreign_match(const char *query, const char *plan,
							 GuardForeignMatch *m)
{
	ForeignKey	key;
	ForeignEntry *entry;

	baseline_ensure();
	if (baseline_plans == NULL || baseline_foreign == NULL)
		return GUARD_STATUS_NEW;
	if (!foreign_key(query, plan, &key))
		return GUARD_STATUS_NEW;
	entry = hash_search(baseline_foreign, &key, HASH_FIND, NULL);
	if (entry == NULL)
		return GUARD_STATUS_NEW;
	if (m)
	{
		m->query_hash = entry->query_hash;
		m->plan_hash = entry->plan_hash;
		m->rules = entry->rules;
	}
	if (entry->rejected &&
		(entry->rejected_until == 0 ||
		 entry->rejected_until > GetCurrentStatementStartTimestamp()))
		return GUARD_STATUS_REJECTED;
	return entry->approved ? GUARD_STATUS_APPROVED : GUARD_STATUS_NEW;
}

GuardStatus
guard_baseline_foreign_status(const char *query, const char *plan)
{
	return guard_baseline_foreign_match(query, plan, NULL);
}

/*
 * guard_baseline_status_rules: the decision on the plan with these hashes
 * computed under fingerprint rules `rules` (an incident recorded before the
 * rules changed), matched by its texts when there is none by its hashes.
 */
GuardStatus
guard_baseline_status_rules(uint64 query_hash, uint64 plan_hash, int rules,
							const char *query, const char *plan)
{
	BaselineKey key;
	ForeignHashEntry *entry;

	if (rules == guard_fingerprint_rules)
		return guard_baseline_status_texts(query_hash, plan_hash, query, plan);
	baseline_ensure();
	if (baseline_plans == NULL || baseline_foreign_hash == NULL)
		return GUARD_STATUS_NEW;
	memset(&key, 0, sizeof(key));
	key.query_hash = query_hash;
	key.plan_hash = plan_hash;
	entry = hash_search(baseline_foreign_hash, &key, HASH_FIND, NULL);
	if (entry != NULL && entry->rules == rules &&
		(entry->expires_at == 0 ||
		 entry->expires_at > GetCurrentStatementStartTimestamp()))
		return entry->status;
	if (query != NULL && plan != NULL)
		return guard_baseline_foreign_status(query, plan);
	return GUARD_STATUS_NEW;
}

/*
 * guard_baseline_require: the relid of guard.baseline, for the functions
 * that read it and judge by the backend's copy (guard.replan, guard.rekey):
 * an ERROR when the table is missing, or no copy can be read (without one
 * every plan would be judged as undecided).
 */
Oid
guard_baseline_require(void)
{
	Oid			relid = baseline_table();

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table guard.baseline does not exist in this database"),
				 errhint("Run ALTER EXTENSION guard UPDATE.")));
	if (!guard_baseline_available())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("guard could not read the baseline of this database"),
				 errdetail("Another session may hold a lock on guard.baseline."),
				 errhint("Try again later.")));
	return relid;
}

/*
 * guard_baseline_texts_key: the key decisions made under other rules are
 * matched by (foreign_key), for guard.rekey; false if the texts may have
 * been clipped.  plan "" gives a key of the statement text alone.
 */
bool
guard_baseline_texts_key(const char *query, const char *plan, uint64 *key)
{
	ForeignKey	k;

	if (!foreign_key(query, plan, &k))
		return false;
	key[0] = k.h1;
	key[1] = k.h2;
	return true;
}

/*
 * guard_baseline_status_texts: the decision on a plan for the views: its
 * decision under the rules in force, else, given its texts (query, plan;
 * NULL if unknown), one made under other rules that matches them.
 */
GuardStatus
guard_baseline_status_texts(uint64 query_hash, uint64 plan_hash,
							const char *query, const char *plan)
{
	GuardStatus status = guard_baseline_status(query_hash, plan_hash);

	if (status == GUARD_STATUS_NEW && query != NULL && plan != NULL &&
		baseline_foreign != NULL)
		status = guard_baseline_foreign_status(query, plan);
	return status;
}

/*
 * guard_baseline_foreign_unmatchable: the decisions made under other
 * fingerprint rules that have no texts (approved without them, or stored
 * without source text), so that neither the judge nor guard.rekey can tell
 * which plans they are about (0 when the baseline is unknown).  While there
 * are any, enforce.c blocks no plan that has no decision: it may be one of
 * them.
 */
int
guard_baseline_foreign_unmatchable(void)
{
	baseline_ensure();
	return baseline_plans == NULL ? 0 : foreign_unmatchable;
}

/*
 * Set whenever the cached copy is known to be empty: the planner asks at
 * every planning, so the answer is a variable read (guard.h).
 */
bool		guard_baseline_known_empty = false;

/* Likewise: the cached copy holds no rejected plan (the common case). */
bool		guard_baseline_known_no_rejected = false;

/*
 * guard_baseline_no_rejected_slow: no rejected plan in this database (true
 * when the baseline is unknown: none is known)?
 */
bool
guard_baseline_no_rejected_slow(void)
{
	baseline_ensure();
	return baseline_plans == NULL || guard_baseline_known_no_rejected;
}

/*
 * guard_baseline_is_empty_slow: no decision at all in this database (true
 * when the baseline is unknown: none is known)?
 */
bool
guard_baseline_is_empty_slow(void)
{
	baseline_ensure();
	return baseline_plans == NULL || hash_get_num_entries(baseline_plans) == 0;
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
	if (baseline_statements == NULL)
		return false;
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
	if (baseline_statements == NULL)
		return 0;
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
	if (baseline_statements == NULL)
		return false;
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


/*
 * guard_baseline_write: run one INSERT, UPDATE or DELETE on guard.baseline
 * as the table's owner (the caller's grant on a decision function is the
 * permission; the role that called it is recorded by the statement).
 * Returns the number of rows written.  If keys is not NULL and the
 * statement has a RETURNING list whose first two columns are query_hash and
 * plan_hash, *keys receives them, two per row, allocated in the caller's
 * memory context.  guard.mode (off) and search_path (pg_catalog) are set for
 * the statement alone and restored by AtEOXact_GUC, or by the abort if it
 * fails: callers must not catch its errors without a subtransaction.
 */
uint64
guard_baseline_write(const char *sql, int nargs, Oid *argtypes, Datum *values,
					 const char *nulls, uint64 **keys)
{
	Oid			relid = baseline_table();
	Oid			owner;
	Oid			save_userid;
	int			save_sec;
	HeapTuple	tp;
	int			ret;
	uint64		processed;
	int			nestlevel;
	MemoryContext callercxt = CurrentMemoryContext;

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

	if (keys != NULL)
		*keys = NULL;
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

	/*
	 * The statement runs as the table's owner: the caller's search_path
	 * must not choose its operators and functions (a role granted EXECUTE
	 * could otherwise put an "=" of its own first and run it as the owner).
	 */
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	ret = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT && ret != SPI_OK_UPDATE && ret != SPI_OK_DELETE &&
		ret != SPI_OK_INSERT_RETURNING && ret != SPI_OK_UPDATE_RETURNING &&
		ret != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "SPI_execute_with_args returned %d", ret);
	processed = SPI_processed;
	if (keys != NULL && SPI_tuptable != NULL && processed > 0 &&
		SPI_tuptable->tupdesc->natts >= 2)
	{
		uint64	   *k = MemoryContextAlloc(callercxt, 2 * processed * sizeof(uint64));
		uint64		i;

		for (i = 0; i < processed; i++)
		{
			bool		isnull;

			k[2 * i] = (uint64) DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
															SPI_tuptable->tupdesc,
															1, &isnull));
			k[2 * i + 1] = (uint64) DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
																SPI_tuptable->tupdesc,
																2, &isnull));
		}
		*keys = k;
	}
	AtEOXact_GUC(true, nestlevel);
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec);
	return processed;
}

/*
 * guard_baseline_has_column: does this database's guard.baseline have the
 * column (a database still at an older extension version may lack one)?
 */
bool
guard_baseline_has_column(const char *name)
{
	Oid			relid = baseline_table();

	return OidIsValid(relid) && get_attnum(relid, name) != InvalidAttrNumber;
}
