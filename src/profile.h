/*-------------------------------------------------------------------------
 *
 * profile.h
 *		The statistics profile (profile.c): the planner of a staging
 *		database sees production's sizes and column statistics.
 *
 * IDENTIFICATION
 *		src/profile.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_PROFILE_H
#define GUARD_PROFILE_H

#include "nodes/pathnodes.h"
#include "nodes/plannodes.h"
#include "utils/selfuncs.h"

extern bool guard_stats_profile;

extern void guard_profile_relation_info(PlannerInfo *root, Oid relid,
										bool inhparent, RelOptInfo *rel);
extern bool guard_profile_relation_stats(PlannerInfo *root, RangeTblEntry *rte,
										 AttrNumber attnum, VariableStatData *vardata);
extern bool guard_profile_index_stats(PlannerInfo *root, Oid indexOid,
									  AttrNumber indexattnum, VariableStatData *vardata);
extern int32 guard_profile_attavgwidth(Oid relid, AttrNumber attnum);
extern char *guard_profile_explain_line(PlannedStmt *plan);
extern bool guard_profile_in_force(void);
extern void guard_profile_relcache_inval(Oid relid);

#endif							/* GUARD_PROFILE_H */
