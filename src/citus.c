/*-------------------------------------------------------------------------
 *
 * citus.c
 *		Citus shards named and sized by their distributed table.
 *
 * On a Citus worker a statement runs against shards: tables named
 * "<table>_<shardid>" and indexes "<index>_<shardid>" (the shard id of
 * their table), each holding a slice of the distributed table.  Hashed and
 * shown under their own names they would make one statement 32
 * fingerprints, and sized by their own estimate a sequential scan of every
 * shard would stay under guard.seqscan_min_rows.  So, when Citus is loaded
 * (before guard: shared_preload_libraries = 'citus,guard'), a relation that
 * Citus's metadata (pg_catalog.pg_dist_shard, present on every node with
 * metadata) lists as a shard is named by its distributed table (an index
 * shard by the distributed table's index of the same name), and its size
 * counts with the number of the table's shards (namecache.c, judge.c).
 * guard does not need Citus: without it nothing here is ever looked up.
 *
 * A shard is recognized only if its name is exactly the distributed
 * table's (or index's) name followed by "_<shardid>" in the same schema,
 * and a placement of that shard lives on this node (pg_dist_placement,
 * pg_dist_local_group): a table merely named like a shard is not one.
 * Names Citus had to shorten (over 63 bytes with the suffix) keep their
 * own.  Results, negative ones included, are cached per backend and
 * forgotten at any relcache invalidation (Citus invalidates the
 * distributed table's relcache entry when its shards change).
 *
 * IDENTIFICATION
 *		src/citus.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "commands/extension.h"
#include "catalog/dependency.h"
#include "nodes/nodeFuncs.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "citus.h"

typedef struct ShardEntry
{
	Oid			relid;			/* hash key: the relation asked about */
	Oid			owner;			/* its distributed table or index, or InvalidOid */
	int			nshards;		/* shards of the distributed table */
} ShardEntry;

int			guard_citus_loaded = -1;	/* -1: not known yet */
static HTAB *shard_map = NULL;
static bool map_stale = false;

void
guard_citus_relcache_inval(Oid relid)
{
	map_stale = true;			/* freed at the next look-up, not here */
}

/* Citus's shard catalog and its two indexes, or false */
static bool
dist_shard_catalog(Oid *rel, Oid *by_shardid, Oid *by_table)
{
	*rel = get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE);
	*by_shardid = get_relname_relid("pg_dist_shard_shardid_index", PG_CATALOG_NAMESPACE);
	*by_table = get_relname_relid("pg_dist_shard_logical_relid_index", PG_CATALOG_NAMESPACE);
	return OidIsValid(*rel) && OidIsValid(*by_shardid) && OidIsValid(*by_table);
}

/* the shard id a relation name ends with ("_<digits>"), or -1; *prefix its length */
static int64
name_shardid(const char *name, int *prefix)
{
	int			len = strlen(name);
	int			i = len;
	int64		id = 0;

	while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
		i--;
	if (i == len || i < 2 || name[i - 1] != '_' || len - i > 18)
		return -1;
	for (int j = i; j < len; j++)
		id = id * 10 + (name[j] - '0');
	*prefix = i - 1;
	return id;
}

/* Is a placement of shardid on this node (pg_dist_placement, pg_dist_local_group)? */
static bool
placed_here(int64 shardid)
{
	Oid			placement = get_relname_relid("pg_dist_placement", PG_CATALOG_NAMESPACE);
	Oid			by_shardid = get_relname_relid("pg_dist_placement_shardid_index", PG_CATALOG_NAMESPACE);
	Oid			localgroup = get_relname_relid("pg_dist_local_group", PG_CATALOG_NAMESPACE);
	AttrNumber	shard_att;
	AttrNumber	group_att;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	bool		isnull;
	int32		group = -1;
	bool		found = false;

	if (!OidIsValid(placement) || !OidIsValid(by_shardid) || !OidIsValid(localgroup))
		return false;
	rel = table_open(localgroup, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	if ((tup = systable_getnext(scan)) != NULL)
	{
		Datum		d = heap_getattr(tup, 1, RelationGetDescr(rel), &isnull);

		if (!isnull)
			group = DatumGetInt32(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	shard_att = get_attnum(placement, "shardid");
	group_att = get_attnum(placement, "groupid");
	if (group < 0 || shard_att == InvalidAttrNumber || group_att == InvalidAttrNumber)
		return false;
	rel = table_open(placement, AccessShareLock);
	ScanKeyInit(&key, shard_att, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(shardid));
	scan = systable_beginscan(rel, by_shardid, true, NULL, 1, &key);
	while (!found && (tup = systable_getnext(scan)) != NULL)
	{
		Datum		d = heap_getattr(tup, group_att, RelationGetDescr(rel), &isnull);

		found = !isnull && DatumGetInt32(d) == group;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * The distributed table shardid belongs to (pg_dist_shard.logicalrelid),
 * and its number of shards; InvalidOid if none.
 */
static Oid
shard_table(int64 shardid, int *nshards)
{
	Oid			rel,
				by_shardid,
				by_table;
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	Oid			owner = InvalidOid;

	if (!dist_shard_catalog(&rel, &by_shardid, &by_table))
		return InvalidOid;
	catalog = table_open(rel, AccessShareLock);
	ScanKeyInit(&key, 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(shardid));
	scan = systable_beginscan(catalog, by_shardid, true, NULL, 1, &key);
	if ((tup = systable_getnext(scan)) != NULL)
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, 1, RelationGetDescr(catalog), &isnull);

		if (!isnull)
			owner = DatumGetObjectId(d);
	}
	systable_endscan(scan);

	*nshards = 0;
	/* a table named like a shard is one only where a placement of it lives */
	if (OidIsValid(owner) && !placed_here(shardid))
		owner = InvalidOid;
	if (OidIsValid(owner))
	{
		ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(owner));
		scan = systable_beginscan(catalog, by_table, true, NULL, 1, &key);
		while (systable_getnext(scan) != NULL)
			(*nshards)++;
		systable_endscan(scan);
	}
	table_close(catalog, AccessShareLock);
	return owner;
}

/* Look relid up: is it a shard (of a table, or of an index)? */
static void
classify(ShardEntry *e)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(e->relid));
	Form_pg_class rel;
	char		name[NAMEDATALEN];
	Oid			nsp;
	char		kind;
	int			prefix;
	int64		shardid;

	e->owner = InvalidOid;
	e->nshards = 1;
	if (!HeapTupleIsValid(tp))
		return;
	rel = (Form_pg_class) GETSTRUCT(tp);
	strlcpy(name, NameStr(rel->relname), sizeof(name));
	nsp = rel->relnamespace;
	kind = rel->relkind;
	ReleaseSysCache(tp);
	if ((shardid = name_shardid(name, &prefix)) < 0)
		return;

	if (kind == RELKIND_INDEX || kind == RELKIND_PARTITIONED_INDEX)
	{
		/* an index shard: on a table shard of the same shard id */
		Oid			table = IndexGetRelation(e->relid, true);
		int			nshards;
		Oid			owner_table;
		char		distname[NAMEDATALEN];
		Oid			distindex;
		int			tprefix;
		char	   *tname = OidIsValid(table) ? get_rel_name(table) : NULL;

		if (tname == NULL || name_shardid(tname, &tprefix) != shardid)
			return;
		owner_table = shard_table(shardid, &nshards);
		if (!OidIsValid(owner_table))
			return;
		memcpy(distname, name, prefix);
		distname[prefix] = '\0';
		distindex = get_relname_relid(distname, nsp);
		if (OidIsValid(distindex) && IndexGetRelation(distindex, true) == owner_table)
		{
			e->owner = distindex;
			e->nshards = Max(nshards, 1);
		}
	}
	else
	{
		int			nshards;
		Oid			owner = shard_table(shardid, &nshards);
		char	   *ownername = OidIsValid(owner) ? get_rel_name(owner) : NULL;

		/* exactly "<the table's name>_<shardid>", in its schema */
		if (ownername != NULL && strlen(ownername) == (size_t) prefix &&
			strncmp(ownername, name, prefix) == 0 && get_rel_namespace(owner) == nsp &&
			owner != e->relid)
		{
			e->owner = owner;
			e->nshards = Max(nshards, 1);
		}
	}
}

/* guard_citus_shard_owner (citus.h) past its inline test */
Oid
guard_citus_shard_owner_slow(Oid relid, int *nshards)
{
	ShardEntry *e;
	bool		found;

	if (nshards)
		*nshards = 1;
	if (guard_citus_loaded < 0)
		guard_citus_loaded = GetConfigOption("citus.version", true, false) != NULL;
	if (!guard_citus_loaded || !IsTransactionState())
		return InvalidOid;
	if (shard_map == NULL || map_stale)
	{
		HASHCTL		ctl;

		if (shard_map != NULL)
			hash_destroy(shard_map);
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(ShardEntry);
		ctl.hcxt = TopMemoryContext;
		shard_map = hash_create("guard citus shards", 256, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		map_stale = false;
	}
	e = hash_search(shard_map, &relid, HASH_FIND, &found);
	if (e == NULL)
	{
		ShardEntry	tmp;

		/* classify before entering: its catalog reads may reset the map */
		tmp.relid = relid;
		classify(&tmp);
		if (map_stale)
			return tmp.owner;	/* not cached: the next call rebuilds */
		e = hash_search(shard_map, &relid, HASH_ENTER, &found);
		e->owner = tmp.owner;
		e->nshards = tmp.nshards;
	}
	if (nshards)
		*nshards = e->nshards;
	return e->owner;
}

/* check_functions_in_node callback: a function neither built in nor Citus's? */
static bool
foreign_function(Oid funcid, void *context)
{
	Oid			citus = *(Oid *) context;

	return funcid >= FirstNormalObjectId &&
		(!OidIsValid(citus) || getExtensionOfObject(ProcedureRelationId, funcid) != citus);
}

/*
 * query_tree_walker callback: does the tree read a relation of the user's,
 * or call a function that is neither built in nor Citus's (a user's
 * function could read anything, and a SQL one is inlined only later)?
 */
static bool
not_citus_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		return rte->rtekind == RTE_RELATION && rte->relid >= FirstNormalObjectId;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, not_citus_walker, context,
								 QTW_EXAMINE_RTES_BEFORE);
	if (check_functions_in_node(node, foreign_function, context))
		return true;
	return expression_tree_walker(node, not_citus_walker, context);
}

/*
 * guard_citus_internal_statement: a statement Citus runs for itself, not
 * for the application: sent over one of Citus's internal connections
 * (application_name "citus_internal ...": its daemon's deadlock detector,
 * two-phase-commit recovery, shard copies, metadata sync), reading no
 * relation of the user's and calling only built-in functions and Citus's
 * own.  A role may name its session "citus_internal", but cannot make its
 * functions Citus's.  The application's statements that Citus sends to
 * workers read shards, so they are judged.
 */
bool
guard_citus_internal_statement(Query *parse)
{
	Oid			citus;

	if (guard_citus_loaded < 0)
		guard_citus_loaded = GetConfigOption("citus.version", true, false) != NULL;
	if (guard_citus_loaded == 0 || !guard_citus_internal_session())
		return false;
	citus = get_extension_oid("citus", true);
	return !query_tree_walker(parse, not_citus_walker, &citus, QTW_EXAMINE_RTES_BEFORE);
}

/* guard_citus_internal_session: the session is one of Citus's connections */
bool
guard_citus_internal_session(void)
{
	return application_name != NULL && strncmp(application_name, "citus_internal", 14) == 0;
}
