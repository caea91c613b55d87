/*-------------------------------------------------------------------------
 *
 * correct.c
 *		Plan correction (guard.correct): re-plan a plan_regression with
 *		the regressed relations' sequential-scan paths removed.
 *
 * judge.c decides when to correct and whether the result is approved;
 * this file only removes paths.  Between guard_correct_begin and
 * guard_correct_end the set_rel_pathlist hook is guard's, and acts on the
 * listed relations at the correcting planning level only (statements
 * functions plan meanwhile are left alone); every other planning pays
 * nothing for it.  Backend-local state; no locks.
 *
 * IDENTIFICATION
 *		src/correct.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"

#include "correct.h"

static const Oid *correcting_relids = NULL;
static int	correcting_n = 0;
static const int *correcting_depth_var = NULL;
static int	correcting_depth = 0;
static set_rel_pathlist_hook_type prev_set_rel_pathlist = NULL;

static bool
correcting_rel(PlannerInfo *root, RelOptInfo *rel, RangeTblEntry *rte)
{
	int			i;
	Oid			relid = rte->relid;

	/* a partition's scan counts as its parent's */
	if (rel->reloptkind == RELOPT_OTHER_MEMBER_REL && root->append_rel_array &&
		root->append_rel_array[rel->relid])
	{
		Oid			parent = root->append_rel_array[rel->relid]->parent_reloid;

		for (i = 0; i < correcting_n; i++)
			if (correcting_relids[i] == parent)
				return true;
	}
	for (i = 0; i < correcting_n; i++)
		if (correcting_relids[i] == relid)
			return true;
	return false;
}

/*
 * set_rel_pathlist hook.  For a relation being corrected, build its paths
 * again without the sequential scan: add_path has already pruned the index
 * paths a cheaper Seq Scan dominated, so they are made anew (index, bitmap
 * and TID paths, as set_plain_rel_pathlist makes them).  A relation with
 * no other way in keeps its Seq Scan, and the correction then fails.
 */
static void
guard_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
					   RangeTblEntry *rte)
{
	if (prev_set_rel_pathlist)
		prev_set_rel_pathlist(root, rel, rti, rte);

	if (correcting_n > 0 && correcting_depth_var != NULL &&
		*correcting_depth_var == correcting_depth &&
		rte->rtekind == RTE_RELATION && !rte->inh && rte->tablesample == NULL &&
		(rte->relkind == RELKIND_RELATION || rte->relkind == RELKIND_MATVIEW) &&
		correcting_rel(root, rel, rte))
	{
		List	   *old_paths = rel->pathlist;
		List	   *old_partial = rel->partial_pathlist;
		ListCell   *lc;
		bool		usable = false;

		rel->pathlist = NIL;
		rel->partial_pathlist = NIL;
		create_index_paths(root, rel);
		create_tidscan_paths(root, rel);

		/*
		 * Only parameterized paths left (the join order may not be able to
		 * feed them: "could not devise a query plan"), or none: keep the
		 * Seq Scan, and the correction fails as it should.
		 */
		foreach(lc, rel->pathlist)
			if (PATH_REQ_OUTER((Path *) lfirst(lc)) == NULL)
				usable = true;
		if (!usable)
		{
			rel->pathlist = old_paths;
			rel->partial_pathlist = old_partial;
		}
	}
}

/*
 * guard_correct_begin: from now on, plannings at *depth_var == depth
 * get no Seq Scan paths for relids.  The previous state goes to save, for
 * guard_correct_end (call it in PG_FINALLY).  Nests.
 */
void
guard_correct_begin(const Oid *relids, int n, const int *depth_var, int depth,
					GuardCorrectSave *save)
{
	save->relids = correcting_relids;
	save->n = correcting_n;
	save->depth_var = correcting_depth_var;
	save->depth = correcting_depth;
	save->hook = set_rel_pathlist_hook;
	save->prev = prev_set_rel_pathlist;

	correcting_relids = relids;
	correcting_n = n;
	correcting_depth_var = depth_var;
	correcting_depth = depth;
	if (set_rel_pathlist_hook != guard_set_rel_pathlist)	/* not nested */
	{
		prev_set_rel_pathlist = set_rel_pathlist_hook;
		set_rel_pathlist_hook = guard_set_rel_pathlist;
	}
}

/* guard_correct_end: restore what guard_correct_begin saved. */
void
guard_correct_end(const GuardCorrectSave *save)
{
	/*
	 * A library loaded during the planning may have installed its hook on
	 * top of guard's: then guard's stays in its chain, passing through
	 * (correcting_n is 0 below), rather than cutting that library out.
	 */
	if (set_rel_pathlist_hook == guard_set_rel_pathlist)
	{
		set_rel_pathlist_hook = save->hook;
		prev_set_rel_pathlist = save->prev;
	}
	correcting_relids = save->relids;
	correcting_n = save->n;
	correcting_depth_var = save->depth_var;
	correcting_depth = save->depth;
}
