/*-------------------------------------------------------------------------
 *
 * citus.h
 *		Citus shards named and sized by their distributed table (citus.c).
 *
 * IDENTIFICATION
 *		src/citus.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_CITUS_H
#define GUARD_CITUS_H

#include "nodes/parsenodes.h"

extern int	guard_citus_loaded;
extern Oid	guard_citus_shard_owner_slow(Oid relid, int *nshards);

/*
 * guard_citus_shard_owner: the distributed table (or index) the Citus shard
 * relid belongs to, and the table's number of shards in *nshards (if not
 * NULL); InvalidOid (and 1) for any other relation.  Inline: without Citus
 * (known after the first call) it costs one test on every planning.
 */
static inline Oid
guard_citus_shard_owner(Oid relid, int *nshards)
{
	if (guard_citus_loaded == 0)
	{
		if (nshards)
			*nshards = 1;
		return InvalidOid;
	}
	return guard_citus_shard_owner_slow(relid, nshards);
}
extern void guard_citus_relcache_inval(Oid relid);
extern bool guard_citus_internal_statement(Query *parse);
extern bool guard_citus_internal_session(void);

#endif							/* GUARD_CITUS_H */
