/*-------------------------------------------------------------------------
 *
 * correct.h
 *		Plan correction (correct.c, guard.correct): while a regressed
 *		statement is planned again, the regressed relations get no
 *		sequential-scan paths.
 *
 * Backend-local: the set_rel_pathlist hook is guard's only between
 * guard_correct_begin and guard_correct_end.
 *
 * IDENTIFICATION
 *		src/correct.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_CORRECT_H
#define GUARD_CORRECT_H

#include "optimizer/paths.h"

/* The correcting state saved by guard_correct_begin */
typedef struct GuardCorrectSave
{
	const Oid  *relids;
	int			n;
	const int  *depth_var;
	int			depth;
	set_rel_pathlist_hook_type hook;
	set_rel_pathlist_hook_type prev;
} GuardCorrectSave;

extern void guard_correct_begin(const Oid *relids, int n, const int *depth_var,
								int depth, GuardCorrectSave *save);
extern void guard_correct_end(const GuardCorrectSave *save);

#endif							/* GUARD_CORRECT_H */
