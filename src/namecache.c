/*-------------------------------------------------------------------------
 *
 * namecache.c
 *		Portable identities of database objects, cached per backend.
 *
 * Fingerprints must not depend on OIDs, which differ between clusters and
 * change across pg_dump/restore.  Objects are therefore hashed by name:
 * relations as "schema.name", columns by attribute name (dropped columns
 * shift attnums after a restore, names do not), other user objects by
 * their object identity ("public.f(integer)").  Built-in objects whose OIDs
 * are hand-assigned in the catalog data (below FirstGenbkiObjectId) keep
 * the same OID on every cluster of a major version and across upgrades, so
 * they are hashed by OID and never looked up.  Temporary schemas hash as
 * "pg_temp", whichever backend owns them.
 *
 * Looking names up costs syscache probes, so results are kept in a small
 * direct-mapped cache.  It is cleared by relcache and syscache invalidation
 * callbacks, which fire on renames, drops and schema changes, so a cached
 * hash is never stale by more than the invalidation horizon the planner
 * itself relies on.  Backend-local; no locks.
 *
 * IDENTIFICATION
 *		src/namecache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "common/hashfn.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "citus.h"
#include "guard.h"
#include "fingerprint.h"
#include "namecache.h"

/* The cache itself; probed inline (namecache.h), filled here */
GuardNameCacheEntry guard_namecache[GUARD_NAMECACHE_SIZE];
static bool namecache_registered = false;

#define namecache guard_namecache

static void
namecache_clear_all(void)
{
	memset(namecache, 0, sizeof(namecache));
}

/* Relcache callback: forget one relation (and its columns), or all. */
void
guard_namecache_relcache_inval(Oid relid)
{
	int			i;

	if (!OidIsValid(relid))
	{
		namecache_clear_all();
		return;
	}
	for (i = 0; i < GUARD_NAMECACHE_SIZE; i++)
		if (namecache[i].objid == relid)
			namecache[i].classid = InvalidOid;
}

/* Syscache callback: renames of schemas, functions, types...: forget all. */
static void
namecache_syscache_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	namecache_clear_all();
}

/*
 * Register the invalidation callbacks.  Called from _PG_init's hook
 * installation in each backend (callbacks are per-process).
 */
void
guard_namecache_init(void)
{
	if (namecache_registered)
		return;
	CacheRegisterSyscacheCallback(NAMESPACEOID, namecache_syscache_cb, (Datum) 0);
	CacheRegisterSyscacheCallback(PROCOID, namecache_syscache_cb, (Datum) 0);
	CacheRegisterSyscacheCallback(OPEROID, namecache_syscache_cb, (Datum) 0);
	CacheRegisterSyscacheCallback(TYPEOID, namecache_syscache_cb, (Datum) 0);
	CacheRegisterSyscacheCallback(COLLOID, namecache_syscache_cb, (Datum) 0);
	namecache_registered = true;
	namecache_clear_all();
}

static uint64
hash_string(const char *s, uint64 seed)
{
	return hash_bytes_extended((const unsigned char *) s, strlen(s), seed);
}

/* Name of a schema as it should appear in fingerprints and texts. */
static const char *
portable_nspname(Oid nspid)
{
	if (isAnyTempNamespace(nspid))
		return "pg_temp";
	return get_namespace_name(nspid);
}

static inline void
cache_put(uint32 slot, Oid classid, Oid objid, int32 sub, uint64 hash)
{
	GuardNameCacheEntry *e = &namecache[slot];

	e->classid = classid;
	e->objid = objid;
	e->sub = sub;
	e->hash = hash;
}

/*
 * guard_relname_hash_slow: hash of a relation's schema-qualified name, on
 * a cache miss (guard_relname_hash in namecache.h probes the cache).  A
 * relation that vanished concurrently hashes by OID: the plan that names
 * it is about to be invalidated anyway.
 */
uint64
guard_relname_hash_slow(Oid relid)
{
	uint64		hash;
	uint32		slot = guard_namecache_slot(RelationRelationId, relid, 0);
	HeapTuple	tp;
	Oid			owner = guard_citus_shard_owner(relid, NULL);

	/* a Citus shard hashes as its distributed table (or index): citus.c */
	if (OidIsValid(owner))
	{
		hash = guard_relname_hash(owner);
		cache_put(slot, RelationRelationId, relid, 0, hash);
		return hash;
	}
	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tp))
	{
		Form_pg_class reltup = (Form_pg_class) GETSTRUCT(tp);
		const char *nsp = portable_nspname(reltup->relnamespace);

		hash = hash_string(nsp ? nsp : "", 0x52454c);
		hash = hash_combine64(hash, hash_string(NameStr(reltup->relname), 0));
		ReleaseSysCache(tp);
	}
	else
		return hash_combine64(0x52454c, relid);

	cache_put(slot, RelationRelationId, relid, 0, hash);
	return hash;
}

/*
 * guard_attname_hash_slow: hash of a column, by name, on a cache miss.
 * System columns (negative attnums) are the same everywhere and hash by
 * number.
 */
uint64
guard_attname_hash_slow(Oid relid, AttrNumber attnum)
{
	uint64		hash;
	uint32		slot = guard_namecache_slot(AttributeRelationId, relid, attnum);
	HeapTuple	tp;

	if (attnum <= 0)
		return hash_combine64(0x415454, (uint64) (attnum + 1000));

	tp = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
	if (HeapTupleIsValid(tp))
	{
		Form_pg_attribute att = (Form_pg_attribute) GETSTRUCT(tp);

		hash = hash_string(NameStr(att->attname), 0x415454);
		ReleaseSysCache(tp);
	}
	else
		return hash_combine64(0x415454, (uint64) attnum);

	cache_put(slot, AttributeRelationId, relid, attnum, hash);
	return hash;
}

/*
 * guard_objname_hash_slow: hash of any other object (function, operator, type,
 * collation...).  Hand-assigned built-in OIDs hash as themselves; other
 * objects by their object identity, which is schema-qualified and includes
 * argument types where they disambiguate.
 */
uint64
guard_objname_hash_slow(Oid classid, Oid objid)
{
	uint64		hash;
	uint32		slot = guard_namecache_slot(classid, objid, 0);
	ObjectAddress addr;
	char	   *ident;

	/* built-in objects never get here: guard_objname_hash hashes their OID */

	addr.classId = classid;
	addr.objectId = objid;
	addr.objectSubId = 0;
	ident = getObjectIdentity(&addr, true);
	if (ident == NULL)
		return hash_combine64((uint64) classid << 32, objid);
	hash = hash_string(ident, classid);
	pfree(ident);

	cache_put(slot, classid, objid, 0, hash);
	return hash;
}

/*
 * guard_relname_text: "schema.name", quoted as needed, for shape texts.
 * Not cached: only used when a plan is seen for the first time.
 */
char *
guard_relname_text(Oid relid)
{
	Oid			owner = guard_citus_shard_owner(relid, NULL);
	char	   *relname;
	Oid			nspid;

	if (OidIsValid(owner))
		relid = owner;			/* a Citus shard is shown as its table */
	relname = get_rel_name(relid);

	if (relname == NULL)
		return psprintf("%u", relid);
	nspid = get_rel_namespace(relid);
	return guard_name_text(quote_qualified_identifier(portable_nspname(nspid), relname));
}

/*
 * guard_name_text: a quoted name as it may stand in a shape or a message:
 * control characters written \xNN.  A shape is one node per line, and a
 * name may hold a newline: unescaped, a table named "w<newline>  Seq Scan
 * on app.big" would forge a line of the approved plan's shape.
 */
char *
guard_name_text(const char *quoted)
{
	StringInfoData buf;
	const unsigned char *p;

	for (p = (const unsigned char *) quoted; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			break;
	if (*p == '\0')
		return (char *) quoted;
	initStringInfo(&buf);
	for (p = (const unsigned char *) quoted; *p; p++)
	{
		if (*p < 0x20 || *p == 0x7f)
			appendStringInfo(&buf, "\\x%02x", *p);
		else
			appendStringInfoChar(&buf, (char) *p);
	}
	return buf.data;
}
