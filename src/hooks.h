/*-------------------------------------------------------------------------
 *
 * hooks.h
 *		Hook wiring (hooks.c): installs guard into the planner, executor,
 *		EXPLAIN, utility and shared-memory hooks.
 *
 * IDENTIFICATION
 *		src/hooks.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_HOOKS_H
#define GUARD_HOOKS_H

#include "nodes/params.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"

extern void guard_install_hooks(void);
extern void guard_install_profile_hooks(void);
extern PlannedStmt *guard_next_planner(Query *parse, const char *query_string,
									   int cursorOptions, ParamListInfo boundParams);

#endif							/* GUARD_HOOKS_H */
