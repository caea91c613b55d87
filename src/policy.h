/*-------------------------------------------------------------------------
 *
 * policy.h
 *		Plan + baseline + settings -> verdict (policy.c).  Raises nothing.
 *
 * IDENTIFICATION
 *		src/policy.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_POLICY_H
#define GUARD_POLICY_H

#include "fingerprint.h"
#include "store.h"

#define GUARD_MAX_REGRESSED	16

typedef struct GuardVerdict
{
	bool		flagged;
	uint32		reasons;		/* GUARD_FP_NEW_SEQSCAN | ... */
	const char *relation;		/* first flagged relation, or NULL */
	double		relation_rows;
	const char *regressed;		/* first plan_regression relation, or NULL */
	double		regressed_rows;
	int			nregressed;		/* relids of plan_regression relations */
	Oid			regressed_relids[GUARD_MAX_REGRESSED];
} GuardVerdict;

extern void guard_policy_evaluate(uint64 query_hash, uint64 plan_hash,
								  const GuardSeqScan *seqscans, int nseqscans,
								  GuardVerdict *verdict);
extern bool guard_policy_flags_row(const GuardPlanRow *row);
extern bool guard_sibling_baseline(uint64 query_hash, const char *query,
								   uint64 *baseline_query_hash,
								   uint64 *baseline_plan_hash);

#endif							/* GUARD_POLICY_H */
