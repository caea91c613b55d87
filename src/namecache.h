/*-------------------------------------------------------------------------
 *
 * namecache.h
 *		Inline probes of the per-backend name cache (namecache.c).
 *
 * The fingerprint walks probe the cache for every relation, column and
 * user object they meet, dozens of times per planning, so the probe is
 * inline and only a miss calls into namecache.c.  Backend-local; no locks.
 *
 * IDENTIFICATION
 *		src/namecache.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_NAMECACHE_H
#define GUARD_NAMECACHE_H

#include "access/transam.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"

#define GUARD_NAMECACHE_SIZE	1024	/* power of two */

typedef struct GuardNameCacheEntry
{
	Oid			classid;		/* InvalidOid: empty slot */
	Oid			objid;
	int32		sub;			/* attnum for columns, else 0 */
	uint64		hash;
} GuardNameCacheEntry;

extern GuardNameCacheEntry guard_namecache[GUARD_NAMECACHE_SIZE];

extern uint64 guard_relname_hash_slow(Oid relid);
extern void guard_namecache_relcache_inval(Oid relid);
extern uint64 guard_attname_hash_slow(Oid relid, AttrNumber attnum);
extern uint64 guard_objname_hash_slow(Oid classid, Oid objid);

static inline uint32
guard_namecache_slot(Oid classid, Oid objid, int32 sub)
{
	uint32		h = (objid * 0x9E3779B1u) ^ ((uint32) sub * 0x85EBCA77u) ^ (classid * 0xC2B2AE3Du);

	return (h >> 16 ^ h) & (GUARD_NAMECACHE_SIZE - 1);
}

static inline bool
guard_namecache_get(Oid classid, Oid objid, int32 sub, uint64 *hash)
{
	GuardNameCacheEntry *e = &guard_namecache[guard_namecache_slot(classid, objid, sub)];

	if (e->objid == objid && e->classid == classid && e->sub == sub)
	{
		*hash = e->hash;
		return true;
	}
	return false;
}

/* Hash of a relation's schema-qualified name. */
static inline uint64
guard_relname_hash(Oid relid)
{
	uint64		hash;

	if (likely(guard_namecache_get(RelationRelationId, relid, 0, &hash)))
		return hash;
	return guard_relname_hash_slow(relid);
}

/* Hash of a table column, by name. */
static inline uint64
guard_attname_hash(Oid relid, AttrNumber attnum)
{
	uint64		hash;

	if (likely(attnum > 0 && guard_namecache_get(AttributeRelationId, relid, attnum, &hash)))
		return hash;
	return guard_attname_hash_slow(relid, attnum);
}

/* Hash of a function, operator, type...: built-ins by OID, others by identity. */
static inline uint64
guard_objname_hash(Oid classid, Oid objid)
{
	uint64		hash;

	if (objid < FirstGenbkiObjectId)
		return ((uint64) classid << 32 | objid) * UINT64CONST(0x9E3779B97F4A7C15);
	if (guard_namecache_get(classid, objid, 0, &hash))
		return hash;
	return guard_objname_hash_slow(classid, objid);
}

#endif							/* GUARD_NAMECACHE_H */
