/*-------------------------------------------------------------------------
 *
 * policy.c
 *		Plan + policy -> verdict.
 *
 * Raises nothing itself and reads no catalog: it judges the facts the
 * fingerprint collected.  The rule implemented so far is new_seqscan in
 * the form that needs no baseline: the plan sequentially scans a relation
 * estimated at guard.seqscan_min_rows rows or more.  pg_catalog,
 * information_schema and temporary relations are never flagged.
 *
 * IDENTIFICATION
 *		src/policy.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "utils/lsyscache.h"

#include "guard.h"

/* Relations no seq-scan rule ever flags. */
static bool
relation_exempt(Oid relid)
{
	Oid			nsp;
	char	   *nspname;
	bool		exempt;

	if (!OidIsValid(relid))
		return true;
	nsp = get_rel_namespace(relid);
	if (nsp == PG_CATALOG_NAMESPACE || isAnyTempNamespace(nsp))
		return true;
	nspname = get_namespace_name(nsp);
	exempt = nspname == NULL || strcmp(nspname, "information_schema") == 0;
	if (nspname)
		pfree(nspname);
	return exempt;
}

/*
 * guard_policy_flags_row: would new_seqscan flag this observed plan?  Works
 * from the recorded texts (relation names and sizes at plan time), for
 * plans planned in other sessions.
 */
bool
guard_policy_flags_row(const GuardPlanRow *row)
{
	int			i;

	for (i = 0; i < row->nseqscans; i++)
	{
		const char *name = row->seqscans[i].relname;

		if (row->seqscans[i].rows < (double) guard_seqscan_min_rows ||
			strncmp(name, "pg_catalog.", 11) == 0 ||
			strncmp(name, "information_schema.", 19) == 0 ||
			strncmp(name, "pg_temp.", 8) == 0)
			continue;
		return true;
	}
	return false;
}

/*
 * guard_policy_evaluate: fill *verdict for a plan's texts (seqscans must
 * carry relids, i.e. come from this planning).
 */
void
guard_policy_evaluate(const GuardPlanTexts *texts, GuardVerdict *verdict)
{
	int			i;

	memset(verdict, 0, sizeof(*verdict));
	for (i = 0; i < texts->nseqscans; i++)
	{
		const GuardSeqScan *s = &texts->seqscans[i];

		if (s->rows < (double) guard_seqscan_min_rows || relation_exempt(s->relid))
			continue;
		if (!verdict->flagged)
		{
			verdict->flagged = true;
			verdict->relation = s->relname;
			verdict->relation_rows = s->rows;
			verdict->reasons = lappend(verdict->reasons, pstrdup("new_seqscan"));
		}
	}
}
