/*-------------------------------------------------------------------------
 *
 * baseline.h
 *		guard.baseline: the backend's cached copy of the DBA's decisions and
 *		the low-level write into the table (baseline.c).  The SQL functions
 *		that make decisions are in review.c.
 *
 * Backend-local; no shared memory, no locks but the table's own.
 *
 * IDENTIFICATION
 *		src/baseline.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_BASELINE_H
#define GUARD_BASELINE_H

#include "guard.h"

extern bool guard_baseline_available(void);
extern void guard_baseline_relcache_inval(Oid relid);
extern Oid	guard_baseline_require(void);
extern bool guard_baseline_texts_key(const char *query, const char *plan, uint64 *key);
extern GuardStatus guard_baseline_status(uint64 query_hash, uint64 plan_hash);
extern uint64 guard_baseline_approved_plan(uint64 query_hash, const char *relname);
extern bool guard_baseline_has_approved(uint64 query_hash);
extern bool guard_baseline_approved_reads(uint64 query_hash, const char *relname,
										  bool by_index);
extern bool guard_baseline_has_column(const char *name);
extern bool guard_baseline_has_foreign(void);
extern GuardStatus guard_baseline_foreign_status(const char *query, const char *plan);

/* the decision made under other rules that matched a plan's texts */
typedef struct GuardForeignMatch
{
	uint64		query_hash;
	uint64		plan_hash;
	int			rules;
} GuardForeignMatch;

extern GuardStatus guard_baseline_foreign_match(const char *query, const char *plan,
												GuardForeignMatch *m);
extern GuardStatus guard_baseline_status_rules(uint64 query_hash, uint64 plan_hash,
											   int rules, const char *query,
											   const char *plan);
extern int	guard_baseline_foreign_unmatchable(void);
extern GuardStatus guard_baseline_status_texts(uint64 query_hash, uint64 plan_hash,
											   const char *query, const char *plan);
extern uint64 guard_baseline_write(const char *sql, int nargs, Oid *argtypes,
								   Datum *values, const char *nulls, uint64 **keys);

extern bool guard_baseline_known_empty;
extern bool guard_baseline_known_no_rejected;
extern bool guard_baseline_no_rejected_slow(void);
extern bool guard_baseline_is_empty_slow(void);

/* No rejected plan in this database?  A variable read when cached. */
static inline bool
guard_baseline_no_rejected(void)
{
	return guard_baseline_known_no_rejected || guard_baseline_no_rejected_slow();
}

/* No decision at all in this database?  A variable read when cached. */
static inline bool
guard_baseline_is_empty(void)
{
	return guard_baseline_known_empty || guard_baseline_is_empty_slow();
}

/*
 * The order of guard.replan's and guard.rekey's reports: by statement text
 * (bytewise; no text last), then query_hash, then plan_hash.
 */
static inline int
guard_cmp_report_order(const char *qx, uint64 hx, uint64 px,
					   const char *qy, uint64 hy, uint64 py)
{
	if (qx != NULL && qy != NULL)
	{
		int			c = strcmp(qx, qy);

		if (c != 0)
			return c;
	}
	else if (qx != NULL || qy != NULL)
		return qx != NULL ? -1 : 1;
	if (hx != hy)
		return hx < hy ? -1 : 1;
	if (px != py)
		return px < py ? -1 : 1;
	return 0;
}

#endif							/* GUARD_BASELINE_H */
