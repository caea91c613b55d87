/*-------------------------------------------------------------------------
 *
 * store.h
 *		The shared store of observed plans (store.c): guard.plans.
 *
 * Locking is documented in store.c's banner: look-ups under LW_SHARED,
 * inserts and evictions under LW_EXCLUSIVE, counters under a spinlock.
 *
 * IDENTIFICATION
 *		src/store.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_STORE_H
#define GUARD_STORE_H

#include "utils/timestamp.h"

#include "fingerprint.h"

/* Row of guard.plans as copied out of the store */
typedef struct GuardPlanRow
{
	Oid			dbid;
	Oid			userid;
	uint64		query_hash;
	uint64		plan_hash;
	uint64		queryid;
	uint32		flags;			/* GUARD_FP_* of the first planning, and REFUSED */
	int64		calls;
	int64		generic_calls;
	int64		custom_calls;
	TimestampTz first_seen;
	TimestampTz last_seen;
	char	   *query;
	char	   *plan;
	int			nseqscans;
	GuardSeqScan *seqscans;
} GuardPlanRow;

typedef struct GuardStoreInfo
{
	int64		plans;
	int64		max_plans;
	int64		evictions;
	int64		text_bytes;
	int64		text_limit;
	int64		dropped_texts;
	TimestampTz stats_reset;
} GuardStoreInfo;

extern void guard_store_request(void);
extern void guard_store_startup(void);
extern Size guard_store_size(void);
extern bool guard_store_ready(void);
extern void guard_store_require(void);
extern void guard_store_release_locks(void);
extern bool guard_store_known(Oid dbid, const GuardFingerprint *fp);
extern void guard_store_add(Oid dbid, Oid userid, const GuardFingerprint *fp,
							const GuardPlanTexts *texts);
extern bool guard_store_count(Oid dbid, const GuardFingerprint *fp,
							  TimestampTz now);
extern void guard_store_mark_refused(Oid dbid, const GuardFingerprint *fp);
extern void guard_store_reset(void);
extern void guard_store_reset_matching(Oid userid, Oid dbid, uint64 query_hash);
extern GuardPlanRow *guard_store_snapshot(int *nrows, bool with_texts);
extern bool guard_store_get(Oid dbid, uint64 query_hash, uint64 plan_hash,
							GuardPlanRow *row);
extern void guard_store_info(GuardStoreInfo *info);
extern int	guard_store_aliases(Oid dbid, uint64 query_hash, uint64 plan_hash,
								uint64 *aliases, int max);
extern int	guard_store_siblings(Oid dbid, uint64 query_hash, const char *query,
								 uint64 *pairs, int max);

#endif							/* GUARD_STORE_H */
