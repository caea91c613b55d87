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

extern Oid	guard_citus_shard_owner(Oid relid, int *nshards);
extern void guard_citus_relcache_inval(Oid relid);

#endif							/* GUARD_CITUS_H */
