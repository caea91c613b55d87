/*-------------------------------------------------------------------------
 *
 * profile.c
 *		The statistics profile: a staging database plans as production
 *		would, from production's sizes and column statistics.
 *
 * `pg_guard stats export` reads, in production, what the planner reads:
 * reltuples, relpages and relallvisible of every table and index, and the
 * column statistics of pg_statistic in the form of the pg_stats view (values
 * as text, so that they load into any server).  `pg_guard stats import`
 * writes them into guard.stats_relations, guard.stats_columns and the one
 * row of guard.stats_profile of a staging database.  While guard.stats_profile
 * (superuser, default off) is on, three planner hooks substitute them for
 * the staging database's own:
 *	- get_relation_info (hooks.c calls guard_profile_relation_info): the
 *	  table's and its indexes' sizes, times the profile's growth factor;
 *	- get_relation_stats_hook: a pg_statistic tuple built from the profile
 *	  for a table column;
 *	- get_index_stats_hook: the same for an expression index column.
 * A relation or column the profile lacks, or whose type changed since the
 * export, keeps the staging database's own statistics (a fallback; the view
 * guard.stats_profile_fallbacks lists them, EXPLAIN names the relations).
 *
 * The pg_statistic slots are built as ANALYZE would fill them (and as
 * PostgreSQL 18's pg_restore_attribute_stats rebuilds them): kinds in
 * ANALYZE's order, the type's default equality and ordering operators,
 * the column's collation.  Every array is checked before it can reach a
 * selectivity function: one dimension, no NULL, and as many frequencies as
 * values, for the selectivity functions index one by the other.
 *
 * Cache: each backend reads the three tables once, with a plain heap scan
 * (as baseline.c does, and for the same reason: no SPI inside the planner),
 * into a hash table keyed by relation OID; a column's statistics tuple is
 * built at its first use and kept.  The statement trigger the tables share
 * with guard.baseline sends a relcache invalidation with every change; that
 * invalidation, one of a profiled relation (ALTER, DROP, ANALYZE) and a
 * schema's change only mark the copy stale (they may arrive in the middle
 * of a hook), and the next hook call reloads, unless the copy is pinned
 * (get_relation_info holds pointers into it).  Loading and building run in
 * an internal subtransaction: a failed load is one WARNING, a value that no
 * longer parses a LOG line, and both a fallback, never a failed statement
 * (cancels and lock errors are the statement's).  Reading takes no lock on
 * the application's relations or types.  The statistics hooks are
 * installed the first time the setting is on in a process (hooks.c); while
 * it is off they cost one test of a bool.
 *
 * The profile holds production's data values (most common values,
 * histogram bounds): the tables are readable by superusers only.
 *
 * IDENTIFICATION
 *		src/profile.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/heapam.h"
#include "access/nbtree.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_index.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/readfuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/plancat.h"
#include "parser/parsetree.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/rangetypes.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "compat.h"
#include "guard.h"
#include "profile.h"

bool		guard_stats_profile = false;


/* columns of guard.stats_relations (sql/guard--0.5--0.6.sql) */
#define SR_SCHEMANAME		0
#define SR_RELNAME			1
#define SR_RELKIND			2
#define SR_RELTUPLES		3
#define SR_RELPAGES			4
#define SR_RELALLVISIBLE	5
#define SR_CURPAGES			6
#define SR_TREE_HEIGHT		7
#define SR_RELID			8		/* the relation's OID at the import (0.6) */
#define SR_NATTS			9

/* columns of guard.stats_columns */
#define SC_SCHEMANAME		0
#define SC_RELNAME			1
#define SC_ATTNAME			2
#define SC_INHERITED		3
#define SC_ATTTYPE			4
#define SC_NULL_FRAC		5
#define SC_AVG_WIDTH		6
#define SC_N_DISTINCT		7
#define SC_MCV				8
#define SC_MCF				9
#define SC_HISTOGRAM		10
#define SC_CORRELATION		11
#define SC_MCE				12
#define SC_MCEF				13
#define SC_ELEM_HIST		14
#define SC_RANGE_LEN_HIST	15
#define SC_RANGE_EMPTY		16
#define SC_RANGE_BOUNDS		17
#define SC_NATTS			18

/* columns of guard.stats_profile */
#define SP_SOURCE			0
#define SP_SERVER_VERSION	1
#define SP_EXPORTED_AT		2
#define SP_IMPORTED_AT		3
#define SP_GROWTH			4
#define SP_NATTS			5

/*
 * At most this many values per statistic: ANALYZE keeps at most 10 000
 * most common values and 10 001 histogram bounds (statistics target
 * 10 000), and up to ten times that many most common elements.
 */
#define PROFILE_MAX_VALUES	100000

/* One column's statistics, as the profile holds them (datums in the cache) */
typedef struct ProfileColumn
{
	AttrNumber	attnum;
	bool		inherited;
	char	   *attname;
	Datum		values[SC_NATTS];
	bool		isnull[SC_NATTS];
	Oid			typid;			/* the column's type when loaded */
	bool		built;			/* tuple built (or failed: tuple NULL) */
	HeapTuple	tuple;			/* a pg_statistic tuple, in the cache */
} ProfileColumn;

/* One relation of the profile that exists in this database */
typedef struct ProfileRel
{
	Oid			relid;			/* hash key */
	char	   *name;			/* schema.relation, for messages */
	bool		has_size;		/* sizes known (a stats_relations row) */
	double		reltuples;		/* pg_class, in production */
	double		relpages;
	double		relallvisible;
	double		curpages;		/* the size in blocks at the export */
	int			tree_height;	/* a btree's, at the export; -1: unknown */
	bool		partial;		/* an index with a predicate (here) */
	bool		claimed;		/* created after the import: the profile is not its */
	int			ncols;
	int			maxcols;
	ProfileColumn *cols;
} ProfileRel;

/* The backend's copy of the profile */
static MemoryContext profile_cxt = NULL;
static HTAB *profile_rels = NULL;
static bool profile_valid = false;
static bool profile_present = false;	/* a guard.stats_profile row exists */
static char *profile_source = NULL;
static double profile_growth = 1.0;
static bool callback_registered = false;
static Oid	tables[3];			/* stats_profile, stats_relations, stats_columns */
static bool tables_known = false;
static TupleDesc statistic_desc = NULL;

/* the last relation looked up: the planner asks about one column after another */
static Oid	last_relid = InvalidOid;
static ProfileRel *last_rel = NULL;

static void profile_load(void);


/*
 * Relcache callback: a change to a profile table (its trigger), or a reset
 * of the whole relcache.  Only marks the copy stale: this may run inside a
 * hook that holds a pointer into the copy.  Cached plans are re-planned,
 * as the numbers they were made from changed.
 */
void
guard_profile_relcache_inval(Oid relid)
{
	if (!OidIsValid(relid) || !tables_known || !OidIsValid(tables[0]) ||
		!OidIsValid(tables[1]) || !OidIsValid(tables[2]))
	{
		profile_valid = false;
		tables_known = false;
		return;
	}
	if (relid == tables[0] || relid == tables[1] || relid == tables[2])
	{
		profile_valid = false;
		tables_known = false;	/* a dropped extension's tables, perhaps */
		ResetPlanCache();
	}
	else if (profile_rels != NULL && profile_valid &&
			 hash_search(profile_rels, &relid, HASH_FIND, NULL) != NULL)
	{
		/*
		 * A profiled relation changed (ALTER TABLE, DROP, ANALYZE...): its
		 * columns' types and its name must be resolved again.  The copy is
		 * not freed here: a hook may be using it.
		 */
		profile_valid = false;
	}
}

/* Syscache callback: a schema changed (renamed, dropped): resolve again */
static void
profile_syscache_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	profile_valid = false;
}

/*
 * The OID of guard.<name> if the guard extension created it as a table,
 * else InvalidOid (a schema "guard" alone proves nothing).
 */
static Oid
guard_table(const char *name, Oid nsp, Oid ext)
{
	Oid			relid = get_relname_relid(name, nsp);

	if (OidIsValid(relid) && get_rel_relkind(relid) == RELKIND_RELATION &&
		getExtensionOfObject(RelationRelationId, relid) == ext)
		return relid;
	return InvalidOid;
}

static void
find_tables(void)
{
	Oid			nsp = get_namespace_oid("guard", true);
	Oid			ext = get_extension_oid("guard", true);

	tables[0] = tables[1] = tables[2] = InvalidOid;
	if (OidIsValid(nsp) && OidIsValid(ext))
	{
		tables[0] = guard_table("stats_profile", nsp, ext);
		tables[1] = guard_table("stats_relations", nsp, ext);
		tables[2] = guard_table("stats_columns", nsp, ext);
	}
	tables_known = true;
}

/* The profile's entry for relid, created when absent (in profile_cxt) */
static ProfileRel *
rel_entry(Oid relid, const char *schema, const char *relname)
{
	bool		found;
	ProfileRel *pr = hash_search(profile_rels, &relid, HASH_ENTER, &found);

	if (!found)
	{
		pr->name = MemoryContextAlloc(profile_cxt, strlen(schema) + strlen(relname) + 2);
		sprintf(pr->name, "%s.%s", schema, relname);
		pr->has_size = false;
		pr->reltuples = pr->relpages = pr->relallvisible = 0;
		pr->ncols = pr->maxcols = 0;
		pr->cols = NULL;
		pr->partial = false;
		pr->claimed = false;
		if (get_rel_relkind(relid) == RELKIND_INDEX)
		{
			HeapTuple	tp = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(relid));

			if (HeapTupleIsValid(tp))
			{
				pr->partial = !heap_attisnull(tp, Anum_pg_index_indpred, NULL);
				ReleaseSysCache(tp);
			}
		}
	}
	return pr;
}

/* The relation schema.relname of this database, or InvalidOid */
static Oid
lookup_rel(Datum schema, Datum relname)
{
	Oid			nsp = get_namespace_oid(NameStr(*DatumGetName(schema)), true);

	if (!OidIsValid(nsp))
		return InvalidOid;
	return get_relname_relid(NameStr(*DatumGetName(relname)), nsp);
}

/*
 * A type's name as the profile records it: schema-qualified, each part
 * quoted as needed (the same as quote_ident(nspname) || '.' ||
 * quote_ident(typname) in SQL), whatever the search_path.
 */
static char *
type_name(Oid typid)
{
	HeapTuple	tp = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	Form_pg_type typ;
	char	   *name;

	if (!HeapTupleIsValid(tp))
		return pstrdup("-");
	typ = (Form_pg_type) GETSTRUCT(tp);
	name = quote_qualified_identifier(get_namespace_name(typ->typnamespace),
									  NameStr(typ->typname));
	ReleaseSysCache(tp);
	return name;
}

/*
 * The type the statistics of column attnum of relid are about: the
 * column's, or for an expression index column the expression's (as
 * ANALYZE and PostgreSQL 18's pg_restore_attribute_stats take it).
 */
static void
stat_type(Oid relid, AttrNumber attnum, Oid *typid, int32 *typmod, Oid *collid)
{
	get_atttypetypmodcoll(relid, attnum, typid, typmod, collid);
	if (get_rel_relkind(relid) == RELKIND_INDEX)
	{
		/* from the catalog cache: no lock on the index (see holds_domain) */
		HeapTuple	tp = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(relid));
		Form_pg_index index;

		if (!HeapTupleIsValid(tp))
			return;
		index = (Form_pg_index) GETSTRUCT(tp);
		if (attnum <= index->indnatts && index->indkey.values[attnum - 1] == 0)
		{
			bool		isnull;
			Datum		d = SysCacheGetAttr(INDEXRELID, tp, Anum_pg_index_indexprs, &isnull);
			List	   *exprs = isnull ? NIL : (List *) stringToNode(TextDatumGetCString(d));
			ListCell   *lc = list_head(exprs);

			for (int i = 0; i < attnum - 1 && lc != NULL; i++)
				if (index->indkey.values[i] == 0)
					lc = lnext(exprs, lc);
			if (lc != NULL)
			{
				Node	   *expr = (Node *) lfirst(lc);

				*typid = exprType(expr);
				*typmod = exprTypmod(expr);
				if (!OidIsValid(*collid))
					*collid = exprCollation(expr);
			}
		}
		ReleaseSysCache(tp);
	}
	if (*typid == TSVECTOROID)
		*collid = DEFAULT_COLLATION_OID;
}

/*
 * Does reading a value of type typid run a domain's CHECK somewhere inside
 * (a composite's field, an array's element, a range's subtype)?  Such a
 * CHECK may call any role's function: those columns keep this database's
 * statistics.  (At the top level the caller reads the base type.)
 */
static bool
holds_domain(Oid typid, int depth)
{
	char		typtype = get_typtype(typid);
	Oid			elem;

	if (depth > 16)
		return true;			/* deeper than anyone needs: not read */
	if (typtype == TYPTYPE_DOMAIN)
		return true;
	if (typtype == TYPTYPE_COMPOSITE)
	{
		/*
		 * Its fields from the catalog caches, not by opening the relation:
		 * planning must take no lock a role could hold against it.
		 */
		Oid			typrelid = get_typ_typrelid(typid);
		HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(typrelid));
		int			natts;
		bool		found = false;

		if (!HeapTupleIsValid(tp))
			return true;
		natts = ((Form_pg_class) GETSTRUCT(tp))->relnatts;
		ReleaseSysCache(tp);
		for (AttrNumber i = 1; i <= natts && !found; i++)
		{
			HeapTuple	at = SearchSysCache2(ATTNUM, ObjectIdGetDatum(typrelid),
											 Int16GetDatum(i));
			Form_pg_attribute att;

			if (!HeapTupleIsValid(at))
				return true;
			att = (Form_pg_attribute) GETSTRUCT(at);
			if (!att->attisdropped)
				found = holds_domain(att->atttypid, depth + 1);
			ReleaseSysCache(at);
		}
		return found;
	}
	if (typtype == TYPTYPE_RANGE)
		return holds_domain(get_range_subtype(typid), depth + 1);
	if (typtype == TYPTYPE_MULTIRANGE)
		return holds_domain(get_multirange_range(typid), depth + 1);
	if (OidIsValid(elem = get_element_type(typid)))
		return holds_domain(elem, depth + 1);
	return false;
}

/*
 * Read the three tables into a fresh copy.  The caller runs this in a
 * subtransaction (or lets errors propagate: guard.stats_profile_check).
 */
static void
profile_load(void)
{
	HASHCTL		ctl;
	MemoryContext old;

	if (!callback_registered)
	{
		/* a schema renamed: names resolve to other relations */
		CacheRegisterSyscacheCallback(NAMESPACEOID, profile_syscache_cb, (Datum) 0);
		callback_registered = true;
	}
	if (profile_cxt != NULL)
		MemoryContextDelete(profile_cxt);
	profile_cxt = AllocSetContextCreate(TopMemoryContext, "guard stats profile",
										ALLOCSET_DEFAULT_SIZES);
	profile_rels = NULL;
	profile_present = false;
	profile_source = NULL;
	profile_growth = 1.0;
	last_relid = InvalidOid;
	last_rel = NULL;
	profile_valid = true;		/* an invalidation from here on makes it stale */

	if (!tables_known)
		find_tables();
	if (!OidIsValid(tables[0]) || !OidIsValid(tables[1]) || !OidIsValid(tables[2]))
		return;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(ProfileRel);
	ctl.hcxt = profile_cxt;
	profile_rels = hash_create("guard stats profile", 64, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	if (statistic_desc == NULL)
	{
		Relation	srel = table_open(StatisticRelationId, AccessShareLock);

		old = MemoryContextSwitchTo(TopMemoryContext);
		statistic_desc = CreateTupleDescCopy(RelationGetDescr(srel));
		MemoryContextSwitchTo(old);
		table_close(srel, AccessShareLock);
	}

	for (int t = 0; t < 3; t++)
	{
		Relation	rel = table_open(tables[t], AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);
		Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
		TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
		int			want = t == 0 ? SP_NATTS : t == 1 ? SR_NATTS : SC_NATTS;
		Datum	   *values = palloc(Max(desc->natts, want) * sizeof(Datum));
		bool	   *isnull = palloc(Max(desc->natts, want) * sizeof(bool));
		HeapTuple	tuple;

		if (desc->natts < want)
			elog(ERROR, "guard.%s has %d columns, expected %d",
				 RelationGetRelationName(rel), desc->natts, want);
		while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
		{
			Oid			relid;
			ProfileRel *pr;

			heap_deform_tuple(tuple, desc, values, isnull);
			if (t == 0)
			{
				profile_present = true;
				if (!isnull[SP_SOURCE])
					profile_source = MemoryContextStrdup(profile_cxt,
														 TextDatumGetCString(values[SP_SOURCE]));
				if (!isnull[SP_EXPORTED_AT])
				{
					struct pg_tm tm;
					fsec_t		fsec;

					/* the minute of the export, in UTC: the same line everywhere */
					if (timestamp2tm(DatumGetTimestampTz(values[SP_EXPORTED_AT]), NULL, &tm,
									 &fsec, NULL, NULL) == 0)
						profile_source = MemoryContextStrdup(profile_cxt,
															 psprintf("%s, exported %04d-%02d-%02d %02d:%02d UTC",
																	  profile_source ? profile_source : "(no source)",
																	  tm.tm_year, tm.tm_mon, tm.tm_mday,
																	  tm.tm_hour, tm.tm_min));
				}
				if (!isnull[SP_GROWTH] && DatumGetFloat8(values[SP_GROWTH]) > 0)
					profile_growth = DatumGetFloat8(values[SP_GROWTH]);
				continue;
			}
			if (isnull[0] || isnull[1] || isnull[2])
				continue;
			relid = lookup_rel(values[0], values[1]);
			if (!OidIsValid(relid))
				continue;		/* not in this database: a fallback the view lists */
			if (t == 1)
			{
				char		kind = get_rel_relkind(relid);
				char		pkind = DatumGetChar(values[SR_RELKIND]);

				/*
				 * A table's numbers never apply to an index of the same
				 * name; NaN passes a CHECK (reltuples >= -1) of a table
				 * made before 0.6's.  reltuples -1: never analyzed, the
				 * width of the rows gives the density (table_size).
				 */
				if ((pkind == RELKIND_INDEX) != (kind == RELKIND_INDEX) ||
					isnull[SR_RELTUPLES] || isnull[SR_RELPAGES] ||
					isnan(DatumGetFloat8(values[SR_RELTUPLES])) ||
					isinf(DatumGetFloat8(values[SR_RELTUPLES])))
					continue;
				pr = rel_entry(relid, NameStr(*DatumGetName(values[0])),
							   NameStr(*DatumGetName(values[1])));

				/*
				 * The import recorded the relation's OID (0: it did not
				 * exist): a relation created since then under the name,
				 * by whoever could, does not get production's statistics.
				 */
				if (!isnull[SR_RELID] && DatumGetObjectId(values[SR_RELID]) != relid)
				{
					pr->claimed = true;
					continue;
				}
				pr->has_size = true;
				pr->reltuples = DatumGetFloat8(values[SR_RELTUPLES]);
				pr->relpages = (double) DatumGetInt64(values[SR_RELPAGES]);
				pr->relallvisible = isnull[SR_RELALLVISIBLE] ? 0 :
					(double) DatumGetInt64(values[SR_RELALLVISIBLE]);
				pr->curpages = isnull[SR_CURPAGES] ? pr->relpages :
					(double) DatumGetInt64(values[SR_CURPAGES]);
				pr->tree_height = isnull[SR_TREE_HEIGHT] ? -1 :
					DatumGetInt32(values[SR_TREE_HEIGHT]);
			}
			else
			{
				AttrNumber	attnum;
				Oid			typid;
				int32		typmod;
				Oid			collid;
				char	   *typname;
				ProfileColumn *pc;

				if (isnull[SC_INHERITED] || isnull[SC_ATTTYPE])
					continue;
				attnum = get_attnum(relid, NameStr(*DatumGetName(values[SC_ATTNAME])));
				if (attnum <= 0)
					continue;
				get_atttypetypmodcoll(relid, attnum, &typid, &typmod, &collid);
				typname = type_name(typid);
				if (strcmp(typname, TextDatumGetCString(values[SC_ATTTYPE])) != 0)
					continue;	/* the type changed since the export: a fallback */
				/*
				 * Reading a value must run no one's code (a domain's CHECK):
				 * checked on the type the values are read as (an index
				 * expression's, not the index column's, which may be a
				 * pseudo-type), and again when they are read (build_tuple).
				 */
				{
					Oid			stattyp;
					int32		stattypmod;
					Oid			statcoll;

					stat_type(relid, attnum, &stattyp, &stattypmod, &statcoll);
					if (holds_domain(getBaseType(stattyp), 0))
						continue;
				}
				pr = rel_entry(relid, NameStr(*DatumGetName(values[0])),
							   NameStr(*DatumGetName(values[1])));
				if (pr->claimed)
					continue;
				if (pr->ncols >= pr->maxcols)
				{
					int			newmax = pr->maxcols == 0 ? 8 : pr->maxcols * 2;

					pr->cols = pr->cols == NULL ?
						MemoryContextAlloc(profile_cxt, newmax * sizeof(ProfileColumn)) :
						repalloc(pr->cols, newmax * sizeof(ProfileColumn));
					pr->maxcols = newmax;
				}
				pc = &pr->cols[pr->ncols++];
				memset(pc, 0, sizeof(*pc));
				pc->attnum = attnum;
				pc->typid = typid;
				pc->inherited = DatumGetBool(values[SC_INHERITED]);
				pc->attname = MemoryContextStrdup(profile_cxt,
												  NameStr(*DatumGetName(values[SC_ATTNAME])));
				old = MemoryContextSwitchTo(profile_cxt);
				for (int i = SC_NULL_FRAC; i < SC_NATTS; i++)
				{
					Form_pg_attribute att = TupleDescAttr(desc, i);

					pc->isnull[i] = isnull[i];
					/* detoasted now: the copy outlives the rows it was read from */
					if (!isnull[i] && att->attlen == -1)
						values[i] = PointerGetDatum(PG_DETOAST_DATUM(values[i]));
					pc->values[i] = isnull[i] ? (Datum) 0 :
						datumCopy(values[i], att->attbyval, att->attlen);
				}
				MemoryContextSwitchTo(old);
			}
		}
		table_endscan(scan);
		UnregisterSnapshot(snapshot);
		table_close(rel, AccessShareLock);
		pfree(values);
		pfree(isnull);
	}

	/*
	 * The growth factor applies to every size: more pages at the same
	 * density (reltuples / relpages).
	 */
	{
		HASH_SEQ_STATUS seq;
		ProfileRel *pr;

		hash_seq_init(&seq, profile_rels);
		while ((pr = hash_seq_search(&seq)) != NULL)
		{
			if (pr->reltuples > 0)	/* -1, never analyzed, stays unknown */
				pr->reltuples = rint(pr->reltuples * profile_growth);
			pr->relpages = rint(pr->relpages * profile_growth);
			pr->curpages = Min(rint(pr->curpages * profile_growth), (double) MaxBlockNumber);
			pr->relallvisible = rint(pr->relallvisible * profile_growth);
			if (pr->tree_height >= 0 && profile_growth > 1)
				pr->tree_height += (int) floor(log(profile_growth) / log(256.0));
			/* no btree is that tall; the planner adds one to it */
			pr->tree_height = Min(pr->tree_height, 64);
		}
	}
}

/* A float4[] of the profile, checked: one dimension, no NULL, in [lo, hi] */
static ArrayType *
checked_numbers(Datum d, const char *what, float4 lo, float4 hi, int *n)
{
	ArrayType  *arr = DatumGetArrayTypeP(d);
	float4	   *v;

	if (ARR_NDIM(arr) != 1 || ARR_HASNULL(arr) || ARR_ELEMTYPE(arr) != FLOAT4OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional array of real without NULL", what)));
	*n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	if (*n > PROFILE_MAX_VALUES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s holds %d values, at most %d are read", what, *n, PROFILE_MAX_VALUES)));
	v = (float4 *) ARR_DATA_PTR(arr);
	for (int i = 0; i < *n; i++)
		if (isnan(v[i]) || v[i] < lo || v[i] > hi)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s holds %g, outside [%g, %g]", what, v[i], lo, hi)));
	return arr;
}

/* A text array literal of the profile read as an array of typid, checked */
static ArrayType *
checked_values(Datum d, const char *what, Oid typid, int32 typmod, int *n)
{
	char	   *s = TextDatumGetCString(d);
	ArrayType  *arr;

	arr = DatumGetArrayTypeP(OidInputFunctionCall(F_ARRAY_IN, s, typid, typmod));
	if (ARR_NDIM(arr) != 1 || ARR_HASNULL(arr))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional array without NULL", what)));
	*n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	if (*n > PROFILE_MAX_VALUES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s holds %d values, at most %d are read", what, *n, PROFILE_MAX_VALUES)));
	return arr;
}

static ArrayType *
one_number(float4 v)
{
	Datum		d = Float4GetDatum(v);

	return construct_array(&d, 1, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT);
}

/* Fill the next slot of a pg_statistic tuple under construction */
static void
set_slot(Datum *values, bool *nulls, int *slot, int16 kind, Oid op, Oid coll,
		 ArrayType *numbers, ArrayType *vals)
{
	int			k = *slot;

	if (k >= STATISTIC_NUM_SLOTS)
		return;
	values[Anum_pg_statistic_stakind1 - 1 + k] = Int16GetDatum(kind);
	values[Anum_pg_statistic_staop1 - 1 + k] = ObjectIdGetDatum(op);
	values[Anum_pg_statistic_stacoll1 - 1 + k] = ObjectIdGetDatum(coll);
	if (numbers)
	{
		values[Anum_pg_statistic_stanumbers1 - 1 + k] = PointerGetDatum(numbers);
		nulls[Anum_pg_statistic_stanumbers1 - 1 + k] = false;
	}
	if (vals)
	{
		values[Anum_pg_statistic_stavalues1 - 1 + k] = PointerGetDatum(vals);
		nulls[Anum_pg_statistic_stavalues1 - 1 + k] = false;
	}
	*slot = k + 1;
}

/*
 * Build the pg_statistic tuple of one profile column of relid, in the
 * current memory context.  Raises an ERROR naming what is wrong.
 */
static HeapTuple
build_tuple(Oid relid, ProfileColumn *pc)
{
	Datum		values[Natts_pg_statistic];
	bool		nulls[Natts_pg_statistic];
	Datum	   *v = pc->values;
	bool	   *n = pc->isnull;
	Oid			typid;
	int32		typmod;
	Oid			collid;
	TypeCacheEntry *typentry;
	int			slot = 0;
	int			nv,
				nn;
	float4		f;

	memset(values, 0, sizeof(values));
	memset(nulls, false, sizeof(nulls));
	for (int k = 0; k < STATISTIC_NUM_SLOTS; k++)
	{
		nulls[Anum_pg_statistic_stanumbers1 - 1 + k] = true;
		nulls[Anum_pg_statistic_stavalues1 - 1 + k] = true;
	}
	values[Anum_pg_statistic_starelid - 1] = ObjectIdGetDatum(relid);
	values[Anum_pg_statistic_staattnum - 1] = Int16GetDatum(pc->attnum);
	values[Anum_pg_statistic_stainherit - 1] = BoolGetDatum(pc->inherited);

	f = n[SC_NULL_FRAC] ? 0 : DatumGetFloat4(v[SC_NULL_FRAC]);
	if (isnan(f) || f < 0 || f > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("null_frac %g is outside [0, 1]", f)));
	values[Anum_pg_statistic_stanullfrac - 1] = Float4GetDatum(f);
	if (!n[SC_AVG_WIDTH] && DatumGetInt32(v[SC_AVG_WIDTH]) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("avg_width %d is negative", DatumGetInt32(v[SC_AVG_WIDTH]))));
	values[Anum_pg_statistic_stawidth - 1] = n[SC_AVG_WIDTH] ? Int32GetDatum(0) : v[SC_AVG_WIDTH];
	f = n[SC_N_DISTINCT] ? 0 : DatumGetFloat4(v[SC_N_DISTINCT]);
	if (isnan(f) || f < -1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_distinct %g is below -1", f)));
	values[Anum_pg_statistic_stadistinct - 1] = Float4GetDatum(f);

	stat_type(relid, pc->attnum, &typid, &typmod, &collid);
	/* a composite may have gained a domain since the load (ALTER TYPE) */
	if (holds_domain(getBaseType(typid), 0))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("values of type %s are not read: it holds a domain",
						format_type_be(typid))));
	/* finds the operators through a domain, as ANALYZE does */
	typentry = lookup_type_cache(typid, TYPECACHE_EQ_OPR | TYPECACHE_LT_OPR);

	/*
	 * Values are read as the domain's base type: a domain's CHECK never
	 * runs (the values are production's, checked there).
	 */
	typid = getBaseTypeAndTypmod(typid, &typmod);

	if (!n[SC_MCV] || !n[SC_MCF])
	{
		ArrayType  *vals,
				   *nums;

		if (n[SC_MCV] || n[SC_MCF])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("most_common_vals and most_common_freqs must be given together")));
		if (!OidIsValid(typentry->eq_opr))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("type %s has no default equality operator for most_common_vals",
							format_type_be(typid))));
		vals = checked_values(v[SC_MCV], "most_common_vals", typid, typmod, &nv);
		nums = checked_numbers(v[SC_MCF], "most_common_freqs", 0, 1, &nn);
		if (nv != nn)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("most_common_vals has %d values but most_common_freqs has %d", nv, nn)));
		set_slot(values, nulls, &slot, STATISTIC_KIND_MCV, typentry->eq_opr, collid, nums, vals);
	}
	if (!n[SC_HISTOGRAM])
	{
		ArrayType  *vals;

		if (!OidIsValid(typentry->lt_opr))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("type %s has no default ordering operator for histogram_bounds",
							format_type_be(typid))));
		vals = checked_values(v[SC_HISTOGRAM], "histogram_bounds", typid, typmod, &nv);
		if (nv < 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("histogram_bounds needs at least 2 values, not %d", nv)));
		set_slot(values, nulls, &slot, STATISTIC_KIND_HISTOGRAM, typentry->lt_opr, collid, NULL, vals);
	}
	if (!n[SC_CORRELATION])
	{
		f = DatumGetFloat4(v[SC_CORRELATION]);
		if (isnan(f) || f < -1 || f > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("correlation %g is outside [-1, 1]", f)));
		if (!OidIsValid(typentry->lt_opr))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("type %s has no default ordering operator for correlation",
							format_type_be(typid))));
		set_slot(values, nulls, &slot, STATISTIC_KIND_CORRELATION, typentry->lt_opr, collid,
				 one_number(f), NULL);
	}
	if (!n[SC_MCE] || !n[SC_MCEF] || !n[SC_ELEM_HIST])
	{
		Oid			elemtyp = typid == TSVECTOROID ? TEXTOID : get_base_element_type(typid);
		int			extra = typid == TSVECTOROID ? 2 : 3;
		TypeCacheEntry *elementry;

		if (!OidIsValid(elemtyp))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("element statistics given for type %s, which has no elements",
							format_type_be(typid))));
		elementry = lookup_type_cache(elemtyp, TYPECACHE_EQ_OPR);
		elemtyp = getBaseType(elemtyp);
		if (!OidIsValid(elementry->eq_opr))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("element type %s has no default equality operator",
							format_type_be(elemtyp))));
		if (!n[SC_MCE] || !n[SC_MCEF])
		{
			ArrayType  *vals,
					   *nums;

			if (n[SC_MCE] || n[SC_MCEF])
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("most_common_elems and most_common_elem_freqs must be given together")));
			vals = checked_values(v[SC_MCE], "most_common_elems", elemtyp, -1, &nv);
			nums = checked_numbers(v[SC_MCEF], "most_common_elem_freqs", 0, 1, &nn);
			/*
			 * One frequency per element, then the minimum, the maximum and
			 * (not for tsvector) the frequency of nulls, as ANALYZE stores
			 * them; the selectivity functions ignore any other count.
			 */
			if (nn != nv + extra)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("most_common_elem_freqs has %d values, most_common_elems %d + %d expected",
								nn, nv, extra)));
			set_slot(values, nulls, &slot, STATISTIC_KIND_MCELEM, elementry->eq_opr, collid,
					 nums, vals);
		}
		if (!n[SC_ELEM_HIST])
		{
			ArrayType  *nums = checked_numbers(v[SC_ELEM_HIST], "elem_count_histogram",
											   0, 1e9, &nn);

			if (nn < 3)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("elem_count_histogram needs at least 3 values, not %d", nn)));
			set_slot(values, nulls, &slot, STATISTIC_KIND_DECHIST, elementry->eq_opr, collid,
					 nums, NULL);
		}
	}
	if (!n[SC_RANGE_BOUNDS])
	{
		Oid			boundtyp = typid;

		if (type_is_multirange(typid))
			boundtyp = get_multirange_range(typid);
		if (!type_is_range(boundtyp))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("range_bounds_histogram given for type %s, which is not a range",
							format_type_be(typid))));
		{
			ArrayType  *bounds = checked_values(v[SC_RANGE_BOUNDS], "range_bounds_histogram",
												boundtyp, typmod, &nv);
			Datum	   *elems;
			int			nelems;
			int16		typlen;
			bool		typbyval;
			char		typalign;

			/* the selectivity functions ERROR on an empty range here */
			get_typlenbyvalalign(boundtyp, &typlen, &typbyval, &typalign);
			deconstruct_array(bounds, boundtyp, typlen, typbyval, typalign,
							  &elems, NULL, &nelems);
			for (int i = 0; i < nelems; i++)
				if (RangeIsEmpty(DatumGetRangeTypeP(elems[i])))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("range_bounds_histogram holds an empty range")));
			if (nelems < 2)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("range_bounds_histogram needs at least 2 values, not %d", nelems)));
			set_slot(values, nulls, &slot, STATISTIC_KIND_BOUNDS_HISTOGRAM, InvalidOid, InvalidOid,
					 NULL, bounds);
		}
	}
	if (!n[SC_RANGE_LEN_HIST] || !n[SC_RANGE_EMPTY])
	{
		if (n[SC_RANGE_LEN_HIST] || n[SC_RANGE_EMPTY])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("range_length_histogram and range_empty_frac must be given together")));
		f = DatumGetFloat4(v[SC_RANGE_EMPTY]);
		if (isnan(f) || f < 0 || f > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("range_empty_frac %g is outside [0, 1]", f)));
		set_slot(values, nulls, &slot, STATISTIC_KIND_RANGE_LENGTH_HISTOGRAM,
				 Float8LessOperator, InvalidOid, one_number(f),
				 checked_values(v[SC_RANGE_LEN_HIST], "range_length_histogram",
								FLOAT8OID, -1, &nv));
	}
	return heap_form_tuple(statistic_desc, values, nulls);
}

/* the owner of relid (of its table, for an index), or InvalidOid */
static Oid
relation_owner(Oid relid)
{
	HeapTuple	tp;
	Oid			owner = InvalidOid;

	if (get_rel_relkind(relid) == RELKIND_INDEX)
		relid = IndexGetRelation(relid, true);
	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tp))
	{
		owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
		ReleaseSysCache(tp);
	}
	return owner;
}

/* error context: which column of the profile failed */
typedef struct BuildContext
{
	const char *rel;
	const char *att;
} BuildContext;

static void
build_error_context(void *arg)
{
	BuildContext *bc = (BuildContext *) arg;

	errcontext("statistics of column %s.%s in the statistics profile", bc->rel, bc->att);
}

/*
 * Build pc's tuple into the cache; an error propagates, with a context
 * line naming the column.
 */
static void
build_column(ProfileRel *pr, ProfileColumn *pc)
{
	MemoryContext old;
	HeapTuple	tuple;
	ErrorContextCallback errcb;
	BuildContext bc;

	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	Oid			owner;

	bc.rel = pr->name;
	bc.att = pc->attname;
	errcb.callback = build_error_context;
	errcb.arg = &bc;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	/*
	 * Input functions (of a composite's or a range's parts) run as the
	 * relation's owner in a security-restricted operation, as ANALYZE runs
	 * index expressions: never with the rights of whoever plans (a DBA's
	 * EXPLAIN), and any setting they change is undone.  An error rolls
	 * both back with the (sub)transaction.
	 */
	owner = relation_owner(pr->relid);
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(OidIsValid(owner) ? owner : save_userid,
						   save_sec_context | SECURITY_RESTRICTED_OPERATION);
	save_nestlevel = NewGUCNestLevel();
	tuple = build_tuple(pr->relid, pc);
	AtEOXact_GUC(false, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	error_context_stack = errcb.previous;
	/* built in the caller's context, kept in the cache's */
	old = MemoryContextSwitchTo(profile_cxt);
	pc->tuple = heap_copytuple(tuple);
	MemoryContextSwitchTo(old);
	heap_freetuple(tuple);
	pc->built = true;
}

/*
 * Run fn(arg) in an internal subtransaction: an error becomes a message
 * of level elevel (cancels and worse are re-thrown).  Returns whether fn
 * completed.  A column's value that no longer loads is only LOGged: a
 * role that changed its type's labels must not be able to make guard warn
 * every client.
 */
static bool
run_protected(void (*fn) (void *), void *arg, const char *what, int elevel)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool ok = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		ok = true;
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
		/*
		 * A lock wait that ended in a deadlock or a timeout is the
		 * statement's error, as core's would be: swallowed, it would let a
		 * role that provokes one make another session plan without the
		 * profile.
		 */
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
			edata->sqlerrcode == ERRCODE_CRASH_SHUTDOWN ||
			edata->sqlerrcode == ERRCODE_T_R_DEADLOCK_DETECTED ||
			edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE ||
			edata->elevel > ERROR)
			ReThrowError(edata);
		ereport(elevel,
				(errmsg("guard could not %s: %s", what, edata->message),
				 edata->context ? errcontext("%s", edata->context) : 0,
				 errdetail("The planner uses this database's own statistics instead.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return ok;
}

static void
load_fn(void *arg)
{
	profile_load();
}

/* hooks re-entered while the profile is loaded or built see no profile */
static int	profile_busy = 0;

/* while pinned, the copy is used as it is, never reloaded (and freed) */
static int	profile_pinned = 0;

/*
 * Make the copy current.  Returns whether a profile applies to this
 * planning.  A load that fails leaves an empty copy, not retried before
 * the next change to the tables (one WARNING, not one per statement).
 */
static bool
profile_ensure(void)
{
	if (profile_busy > 0)
		return false;
	/* the caller holds pointers into the copy: use it as it is */
	if (profile_pinned > 0)
		return profile_rels != NULL && profile_present;
	if (!profile_valid)
	{
		bool		ok;

		if (!IsTransactionState() || IsAbortedTransactionBlockState() ||
			IsInParallelMode())
			return false;
		profile_busy++;
		PG_TRY();
		{
			ok = run_protected(load_fn, NULL, "read the statistics profile", WARNING);
		}
		PG_CATCH();
		{
			/* a cancel or a lock error left a half-read copy: read it again */
			profile_busy--;
			profile_valid = false;
			PG_RE_THROW();
		}
		PG_END_TRY();
		profile_busy--;
		if (!ok)
		{
			/* an empty copy until the tables change: one WARNING, not one per statement */
			profile_rels = NULL;
			profile_present = false;
			profile_valid = true;
		}
	}
	return profile_rels != NULL && profile_present;
}

typedef struct BuildArgs
{
	ProfileRel *pr;
	ProfileColumn *pc;
} BuildArgs;

static void
build_fn(void *arg)
{
	BuildArgs  *ba = (BuildArgs *) arg;

	build_column(ba->pr, ba->pc);
}

/* The profile's column attnum of pr (inherited or not), its tuple built */
static ProfileColumn *
find_column(ProfileRel *pr, AttrNumber attnum, bool inherited)
{
	for (int i = 0; i < pr->ncols; i++)
	{
		ProfileColumn *pc = &pr->cols[i];

		if (pc->attnum != attnum || pc->inherited != inherited)
			continue;
		/* a type changed under a copy not reloaded yet: never its values */
		if (get_atttype(pr->relid, attnum) != pc->typid)
			return NULL;
		if (!pc->built)
		{
			BuildArgs	ba;

			ba.pr = pr;
			ba.pc = pc;
			if (IsInParallelMode())
				return NULL;
			profile_busy++;
			PG_TRY();
			{
				(void) run_protected(build_fn, &ba, "use the statistics profile", LOG);
			}
			PG_FINALLY();
			{
				profile_busy--;
			}
			PG_END_TRY();
			pc->built = true;
		}
		return pc->tuple ? pc : NULL;
	}
	return NULL;
}

static ProfileRel *
find_rel(Oid relid)
{
	ProfileRel *pr;

	if (relid == last_relid && OidIsValid(relid))
		return last_rel;
	pr = (ProfileRel *) hash_search(profile_rels, &relid, HASH_FIND, NULL);
	if (pr != NULL && pr->claimed)
		pr = NULL;
	last_relid = relid;
	last_rel = pr;
	return pr;
}

/*
 * Pages, tuples and all-visible fraction of a table of the profile, as
 * the planner in production computed them: mirrors estimate_rel_size and
 * table_block_relation_estimate_size (PostgreSQL 15, plancat.c and
 * tableam.c) with production's current size and pg_class numbers.
 * A table never vacuumed or analyzed in production has no tuple density:
 * as core, the density then comes from the width of its rows (width_density),
 * and a table of under 10 pages counts as 10.
 */
static void
table_size(ProfileRel *pr, double width_density, double *pages, double *tuples,
		   double *allvisfrac)
{
	double		curpages = pr->curpages;
	double		density;

	if (pr->reltuples < 0 && curpages < 10)
		curpages = 10;			/* as core, for a table never vacuumed */
	if (curpages == 0)
	{
		*pages = 0;
		*tuples = 0;
		*allvisfrac = 0;
		return;
	}
	if (pr->reltuples >= 0 && pr->relpages > 0)
		density = pr->reltuples / pr->relpages;
	else
		density = width_density;
	*pages = curpages;
	/* at most the planner's own ceiling on a row count */
	*tuples = Min(rint(density * curpages), 1e100);
	if (pr->relallvisible == 0)
		*allvisfrac = 0;
	else if (pr->relallvisible >= curpages)
		*allvisfrac = 1;
	else
		*allvisfrac = pr->relallvisible / curpages;
}

/*
 * Rows per page of a table whose production density is unknown, from the
 * width of its rows (production's average widths, through the attavgwidth
 * hook), as table_block_relation_estimate_size computes it.
 */
static double
width_density(Oid relid, RelOptInfo *rel)
{
	Relation	relation = table_open(relid, NoLock);	/* locked by the planner */
	int32		width = get_rel_data_width(relation, rel->attr_widths - rel->min_attr);

	table_close(relation, NoLock);
	width += MAXALIGN(SizeofHeapTupleHeader) + sizeof(ItemIdData);
	/* integer division, as core */
	return (double) ((BLCKSZ - SizeOfPageHeaderData) / width);
}

/*
 * The size of a btree index the profile does not describe (created since
 * the export, by the release itself usually) on a table it does: its
 * entries at the widths of their columns, 90 % full leaves, and the height
 * that many leaves need.  Without it the planner would cost a new index on
 * a production-sized table at staging's two pages.
 */
static void
new_btree_size(IndexOptInfo *info, Oid tableid, double tuples)
{
	double		entry = MAXALIGN(sizeof(IndexTupleData)) + sizeof(ItemIdData);
	double		per_page;
	double		leaves;
	int			height = 0;

	for (int i = 0; i < info->nkeycolumns; i++)
	{
		int32		w = 0;

		if (info->indexkeys[i] != 0)
			w = get_attavgwidth(tableid, info->indexkeys[i]);
		entry += w > 0 ? w : 8; /* an expression: a word */
	}
	entry = MAXALIGN((int) entry);
	per_page = Max(floor((BLCKSZ - SizeOfPageHeaderData) * 0.9 / entry), 2);
	leaves = Max(ceil(tuples / per_page), 1);
	for (double level = leaves; level > 1; level = ceil(level / per_page))
		height++;
	info->pages = (BlockNumber) Min(leaves + 1 + (height > 0 ? leaves / per_page + 1 : 0),
									(double) MaxBlockNumber);
	info->tree_height = height;
}

/* The same for a partial index (plancat.c: the metapage is discounted) */
static bool
index_tuples(ProfileRel *pr, double *tuples)
{
	double		curpages = pr->curpages;
	double		relpages = pr->relpages;

	if (curpages == 0)
	{
		*tuples = 0;
		return true;
	}
	if (relpages > 0)
	{
		curpages--;
		relpages--;
	}
	if (pr->reltuples < 0 || relpages <= 0)
		return false;
	*tuples = Min(rint(pr->reltuples / relpages * curpages), 1e100);
	return true;
}

/* guard_profile_relation_info's work, with the copy pinned */
static void
relation_info_pinned(Oid relid, RelOptInfo *rel)
{
	ProfileRel *pr;
	ListCell   *lc;
	double		pages,
				tuples,
				allvisfrac,
				staging_tuples;

	pr = find_rel(relid);
	if (pr == NULL || !pr->has_size)
		return;					/* a fallback: this database's own size */
	staging_tuples = rel->tuples;
	table_size(pr, pr->reltuples >= 0 && pr->relpages > 0 ? 0 : width_density(relid, rel),
			   &pages, &tuples, &allvisfrac);
	rel->pages = (BlockNumber) pages;
	rel->tuples = tuples;
	rel->allvisfrac = allvisfrac;

	/*
	 * This database's extended statistics describe its own rows: under the
	 * profile they would override production's column statistics (the
	 * profile carries none of its own).
	 */
	rel->statlist = NIL;

	foreach(lc, rel->indexlist)
	{
		IndexOptInfo *info = (IndexOptInfo *) lfirst(lc);
		ProfileRel *ip = find_rel(info->indexoid);

		if (ip != NULL && ip->has_size)
		{
			info->pages = (BlockNumber) ip->curpages;
			if (info->indpred == NIL)
				info->tuples = rel->tuples;
			else if (index_tuples(ip, &tuples))
				info->tuples = Min(tuples, rel->tuples);
			if (info->relam == BTREE_AM_OID && ip->tree_height >= 0)
				info->tree_height = ip->tree_height;
		}
		else
		{
			/* as plancat.c: the table's count; a partial index's share of it */
			if (info->indpred == NIL)
				info->tuples = rel->tuples;
			else
				info->tuples = Min(rint(rel->tuples * info->tuples / Max(staging_tuples, 1)),
								   rel->tuples);
			if (info->relam == BTREE_AM_OID)
				new_btree_size(info, relid, info->tuples);
		}
	}
}

/*
 * get_relation_info (called by hooks.c after the previous hook): the
 * sizes of the table and of its indexes from the profile.
 */
void
guard_profile_relation_info(PlannerInfo *root, Oid relid, bool inhparent,
							RelOptInfo *rel)
{
	if (!guard_stats_profile || inhparent || !profile_ensure())
		return;

	/*
	 * Widths are read through the attavgwidth hook, whose catalog reads may
	 * deliver an invalidation: the copy is pinned (not reloaded, so not
	 * freed) while pointers into it are held here.
	 */
	profile_pinned++;
	PG_TRY();
	{
		relation_info_pinned(relid, rel);
	}
	PG_FINALLY();
	{
		profile_pinned--;
	}
	PG_END_TRY();
}

/*
 * May the user the planner checks permissions as read every row of the
 * relation of range table entry rti (or its column attnum, if > 0)?  As
 * examine_simple_variable decides acl_ok (selfuncs.c, PostgreSQL 15): no
 * security barrier quals, and SELECT on the table or the column; an
 * inheritance child is checked on its topmost parent table, as a whole.
 */
static bool
rti_acl_ok(PlannerInfo *root, Index rti, AttrNumber attnum)
{
	RangeTblEntry *rte;
	RelOptInfo *rel;
	Oid			userid;

	/* an inheritance child: its topmost parent table (not a UNION ALL's subquery) */
	while (root->append_rel_array != NULL && root->append_rel_array[rti] != NULL)
	{
		Index		parent = root->append_rel_array[rti]->parent_relid;

		if (root->simple_rte_array[parent] == NULL ||
			root->simple_rte_array[parent]->rtekind != RTE_RELATION)
			break;
		rti = parent;
		attnum = 0;
	}
	rte = root->simple_rte_array[rti];
	rel = root->simple_rel_array[rti];
	if (rte == NULL || rte->rtekind != RTE_RELATION || rte->securityQuals != NIL)
		return false;
	userid = rel != NULL && OidIsValid(rel->userid) ? rel->userid : GetUserId();
	if (pg_class_aclcheck(rte->relid, userid, ACL_SELECT) == ACLCHECK_OK)
		return true;
	return attnum > 0 &&
		pg_attribute_aclcheck(rte->relid, attnum, userid, ACL_SELECT) == ACLCHECK_OK;
}

/* get_relation_stats_hook: a table column's statistics from the profile */
bool
guard_profile_relation_stats(PlannerInfo *root, RangeTblEntry *rte,
							 AttrNumber attnum, VariableStatData *vardata)
{
	ProfileRel *pr;
	ProfileColumn *pc;
	Index		rti = 0;

	if (!guard_stats_profile || rte->rtekind != RTE_RELATION || attnum <= 0 ||
		!profile_ensure())
		return false;
	pr = find_rel(rte->relid);
	if (pr == NULL)
		return false;
	for (Index i = 1; i < (Index) root->simple_rel_array_size; i++)
		if (root->simple_rte_array[i] == rte)
		{
			rti = i;
			break;
		}
	if (rti == 0)
		return false;
	pc = find_column(pr, attnum, rte->inh);
	if (pc == NULL)
		return false;			/* a fallback: this database's own statistics */
	vardata->statsTuple = heap_copytuple(pc->tuple);
	vardata->freefunc = heap_freetuple;
	vardata->acl_ok = rti_acl_ok(root, rti, attnum);
	return true;
}

/* get_index_stats_hook: an expression index column's statistics */
bool
guard_profile_index_stats(PlannerInfo *root, Oid indexOid,
						  AttrNumber indexattnum, VariableStatData *vardata)
{
	ProfileRel *pr;
	ProfileColumn *pc;
	Oid			tableoid;
	Index		rti = 0;
	bool		acl_ok = false;

	if (!guard_stats_profile || !profile_ensure())
		return false;
	pr = find_rel(indexOid);
	if (pr == NULL || pr->partial)
		return false;			/* as core: no statistics of partial indexes */
	tableoid = IndexGetRelation(indexOid, true);
	pc = find_column(pr, indexattnum, false);
	if (pc == NULL)
		return false;

	/*
	 * The table may appear more than once (through a view, and directly):
	 * the statistics are open only if every appearance may read it all.
	 */
	for (Index i = 1; i < (Index) root->simple_rel_array_size; i++)
	{
		RangeTblEntry *rte = root->simple_rte_array[i];

		if (rte != NULL && rte->rtekind == RTE_RELATION && rte->relid == tableoid)
		{
			acl_ok = (rti == 0 || acl_ok) && rti_acl_ok(root, i, 0);
			rti = i;
		}
	}
	if (rti == 0)
		return false;
	vardata->statsTuple = heap_copytuple(pc->tuple);
	vardata->freefunc = heap_freetuple;
	vardata->acl_ok = acl_ok;
	return true;
}

/* the indexes a plan reads (index, index-only and bitmap index scans) */
static void
plan_indexes(Plan *plan, List **out)
{
	ListCell   *lc;
	List	   *children = NIL;

	if (plan == NULL)
		return;
	check_stack_depth();
	switch (nodeTag(plan))
	{
		case T_IndexScan:
			*out = list_append_unique_oid(*out, ((IndexScan *) plan)->indexid);
			break;
		case T_IndexOnlyScan:
			*out = list_append_unique_oid(*out, ((IndexOnlyScan *) plan)->indexid);
			break;
		case T_BitmapIndexScan:
			*out = list_append_unique_oid(*out, ((BitmapIndexScan *) plan)->indexid);
			break;
		case T_Append:
			children = ((Append *) plan)->appendplans;
			break;
		case T_MergeAppend:
			children = ((MergeAppend *) plan)->mergeplans;
			break;
		case T_BitmapAnd:
			children = ((BitmapAnd *) plan)->bitmapplans;
			break;
		case T_BitmapOr:
			children = ((BitmapOr *) plan)->bitmapplans;
			break;
		case T_SubqueryScan:
			plan_indexes(((SubqueryScan *) plan)->subplan, out);
			break;
		case T_CustomScan:
			children = ((CustomScan *) plan)->custom_plans;
			break;
		default:
			break;
	}
	foreach(lc, children)
		plan_indexes((Plan *) lfirst(lc), out);
	plan_indexes(plan->lefttree, out);
	plan_indexes(plan->righttree, out);
}

/* the access method of an index */
static Oid
index_am(Oid indexid)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(indexid));
	Oid			am = InvalidOid;

	if (HeapTupleIsValid(tp))
	{
		am = ((Form_pg_class) GETSTRUCT(tp))->relam;
		ReleaseSysCache(tp);
	}
	return am;
}

/* schema.name of relid, quoted as needed, appended to buf after a comma */
static void
append_relation(StringInfo buf, Oid relid, const char *note)
{
	char	   *name = get_rel_name(relid);
	char	   *nsp = get_namespace_name(get_rel_namespace(relid));

	if (name == NULL || nsp == NULL)
		return;
	appendStringInfo(buf, "%s%s%s", buf->len > 0 ? ", " : "",
					 quote_qualified_identifier(nsp, name), note);
}

/*
 * The "Guard Statistics Profile" line of EXPLAIN, or NULL when the plan
 * was not made under a profile: where the numbers come from, the growth
 * factor, and the plan's tables and indexes that the profile does not
 * describe (their own statistics; a new btree index sized from its table).
 */
char *
guard_profile_explain_line(PlannedStmt *plan)
{
	StringInfoData buf;
	StringInfoData fallbacks;
	ListCell   *lc;
	List	   *seen = NIL;
	List	   *indexes = NIL;

	if (!guard_stats_profile || !profile_ensure())
		return NULL;
	initStringInfo(&fallbacks);
	foreach(lc, plan->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);
		ProfileRel *pr;
		char		kind;

		if (rte->rtekind != RTE_RELATION || list_member_oid(seen, rte->relid))
			continue;
		seen = lappend_oid(seen, rte->relid);
		kind = get_rel_relkind(rte->relid);
		if (kind == RELKIND_PARTITIONED_TABLE || kind == RELKIND_VIEW ||
			kind == RELKIND_FOREIGN_TABLE)
			continue;
		pr = find_rel(rte->relid);
		if (pr == NULL || !pr->has_size)
			append_relation(&fallbacks, rte->relid, "");
	}
	plan_indexes(plan->planTree, &indexes);
	foreach(lc, plan->subplans)
		plan_indexes((Plan *) lfirst(lc), &indexes);
	foreach(lc, indexes)
	{
		Oid			indexid = lfirst_oid(lc);
		ProfileRel *ip = find_rel(indexid);
		ProfileRel *tp = find_rel(IndexGetRelation(indexid, true));

		if (ip != NULL && ip->has_size)
			continue;
		append_relation(&fallbacks, indexid,
						tp != NULL && tp->has_size && index_am(indexid) == BTREE_AM_OID ?
						" (sized from its table)" : "");
	}
	initStringInfo(&buf);
	appendStringInfo(&buf, "%s", profile_source ? profile_source : "(no source)");
	if (profile_growth != 1.0)
		appendStringInfo(&buf, ", growth %g", profile_growth);
	if (fallbacks.len > 0)
		appendStringInfo(&buf, "; not from the profile: %s", fallbacks.data);
	return buf.data;
}

/*
 * guard.stats_profile_check(): read the profile and build every column's
 * statistics as the planner would use them; an error names the first
 * value that does not load into this database.  Returns the number of
 * columns checked.  pg_guard stats import calls it before committing.
 */
PG_FUNCTION_INFO_V1(guard_stats_profile_check);
Datum
guard_stats_profile_check(PG_FUNCTION_ARGS)
{
	HASH_SEQ_STATUS seq;
	ProfileRel *pr;
	int64		n = 0;

	profile_busy++;
	PG_TRY();
	{
		profile_valid = false;
		tables_known = false;
		profile_load();
		if (profile_rels != NULL)
		{
			hash_seq_init(&seq, profile_rels);
			while ((pr = hash_seq_search(&seq)) != NULL)
				for (int i = 0; i < pr->ncols; i++)
				{
					build_column(pr, &pr->cols[i]);
					n++;
				}
		}
	}
	PG_FINALLY();
	{
		profile_busy--;
		profile_valid = false;	/* hooks reload, in their own way */
	}
	PG_END_TRY();
	PG_RETURN_INT64(n);
}

/*
 * guard.stats_btree_height(regclass): the height of a btree index (its
 * root's level), which the planner charges for each descent; NULL for
 * other relations.  pg_guard stats export reads it in production.
 */
PG_FUNCTION_INFO_V1(guard_stats_btree_height);
Datum
guard_stats_btree_height(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Relation	index;
	int			height;

	if (get_rel_relkind(relid) != RELKIND_INDEX)
		PG_RETURN_NULL();
	index = try_relation_open(relid, AccessShareLock);
	if (index == NULL)
		PG_RETURN_NULL();
	/* as the planner: no height for an invalid index, nor one with no pages */
	if (index->rd_rel->relam != BTREE_AM_OID || !index->rd_index->indisvalid ||
		RelationGetNumberOfBlocks(index) == 0 ||
		pg_class_aclcheck(index->rd_index->indrelid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
	{
		relation_close(index, AccessShareLock);
		PG_RETURN_NULL();
	}
	height = _bt_getrootheight(index);
	relation_close(index, AccessShareLock);
	PG_RETURN_INT32(height);
}

/*
 * get_attavgwidth_hook: a column's average width from the profile (0: the
 * planner reads this database's own).
 */
int32
guard_profile_attavgwidth(Oid relid, AttrNumber attnum)
{
	ProfileRel *pr;

	if (!guard_stats_profile || attnum <= 0 || !profile_ensure())
		return 0;
	pr = find_rel(relid);
	if (pr == NULL)
		return 0;
	for (int i = 0; i < pr->ncols; i++)
	{
		ProfileColumn *pc = &pr->cols[i];

		if (pc->attnum == attnum && !pc->inherited)
		{
			if (pc->isnull[SC_AVG_WIDTH] || DatumGetInt32(pc->values[SC_AVG_WIDTH]) <= 0)
				return 0;
			return DatumGetInt32(pc->values[SC_AVG_WIDTH]);
		}
	}
	return 0;
}

/*
 * guard_profile_in_force: does a statistics profile apply to the planning
 * that just ended (the setting is on, and a profile was read)?  judge.c
 * records it with the plan (guard.plans.stats_profile): a plan made while
 * the profile could not be read is told apart from one made under it.
 */
bool
guard_profile_in_force(void)
{
	return guard_stats_profile && profile_ensure();
}
