/*-------------------------------------------------------------------------
 *
 * policy.c
 *		Plan + baseline + policy -> verdict.
 *
 * Raises nothing itself: it judges the facts the fingerprint collected
 * against the baseline (baseline.c) and the settings.  While the baseline
 * is unknown (guard_baseline_available()) no rule applies.  Rules, in order:
 *	- rejected_plan: the DBA rejected this plan;
 *	- an approved plan is never flagged;
 *	- for each relation the plan reads by (Parallel) Seq Scan that is not
 *	  exempt (pg_catalog, information_schema, guard's own schema, temporary schemas, estimated
 *	  below guard.seqscan_min_rows rows, on guard.allow_seqscan):
 *	  plan_regression if an approved plan of the statement reached it
 *	  through an index, else new_seqscan if no approved plan of the
 *	  statement seq-scans it.
 * Evaluated once per plan, at plan time; the verdict travels with the plan.
 *
 * IDENTIFICATION
 *		src/policy.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/varlena.h"

#include "guard.h"
#include "policy.h"
#include "baseline.h"

/* Is relname on guard.allow_seqscan?  Entries may omit the schema. */
static bool
allowed_by_setting(const char *relname)
{
	char	   *copy;
	List	   *names;
	ListCell   *lc;
	bool		allowed = false;
	const char *dot;

	if (guard_allow_seqscan == NULL || guard_allow_seqscan[0] == '\0')
		return false;
	copy = pstrdup(guard_allow_seqscan);
	if (!SplitGUCList(copy, ',', &names))
		return false;			/* the check hook rejected this already */
	dot = strrchr(relname, '.');
	foreach(lc, names)
	{
		const char *entry = (const char *) lfirst(lc);

		if (strcmp(entry, relname) == 0 ||
			(strchr(entry, '.') == NULL && dot && strcmp(entry, dot + 1) == 0))
		{
			allowed = true;
			break;
		}
	}
	list_free(names);
	pfree(copy);
	return allowed;
}

/* Relations no seq-scan rule ever flags, by name (relid unknown) */
static bool
exempt_by_name(const char *name)
{
	return strncmp(name, "pg_catalog.", 11) == 0 ||
		strncmp(name, "information_schema.", 19) == 0 ||
		strncmp(name, "pg_temp.", 8) == 0 ||
		/* guard's own tables: read whole by pg_guard and the DBA */
		strncmp(name, "guard.", 6) == 0 ||
		allowed_by_setting(name);
}

/* Relations no seq-scan rule ever flags. */
static bool
relation_exempt(const GuardSeqScan *s)
{
	Oid			nsp;

	if (s->rows < (double) guard_seqscan_min_rows)
		return true;
	if (OidIsValid(s->relid))
	{
		nsp = get_rel_namespace(s->relid);
		if (nsp == PG_CATALOG_NAMESPACE || isAnyTempNamespace(nsp))
			return true;
	}
	return exempt_by_name(s->relname);
}

/*
 * guard_policy_flags_row: would the seq-scan rules flag this observed
 * plan, ignoring the baseline?  From the recorded texts (relation names
 * and sizes at plan time), for plans planned in other sessions.
 */
bool
guard_policy_flags_row(const GuardPlanRow *row)
{
	int			i;

	for (i = 0; i < row->nseqscans; i++)
	{
		GuardSeqScan s = row->seqscans[i];

		s.relid = InvalidOid;
		if (!relation_exempt(&s))
			return true;
	}
	return false;
}

/*
 * guard_policy_evaluate: the verdict on one plan.  seqscans should carry
 * relids (from this planning) where known.
 */
void
guard_policy_evaluate(uint64 query_hash, uint64 plan_hash,
					  const GuardSeqScan *seqscans, int nseqscans,
					  GuardVerdict *verdict)
{
	GuardStatus status;
	bool		has_approved;
	int			i;

	memset(verdict, 0, sizeof(*verdict));

	/*
	 * No copy of the baseline could be read yet (the table is locked): no
	 * plan is known to be approved or rejected, and judging the plan anyway
	 * would report every large sequential scan as new.  Judge nothing.
	 */
	if (!guard_baseline_available())
		return;
	status = guard_baseline_status(query_hash, plan_hash);
	if (status == GUARD_STATUS_APPROVED)
		return;
	if (status == GUARD_STATUS_REJECTED)
	{
		verdict->flagged = true;
		verdict->reasons |= GUARD_FP_REJECTED;
	}

	has_approved = guard_baseline_has_approved(query_hash);
	for (i = 0; i < nseqscans; i++)
	{
		const GuardSeqScan *s = &seqscans[i];
		uint32		reason;

		if (relation_exempt(s))
			continue;
		if (has_approved && guard_baseline_approved_reads(query_hash, s->relname, true))
			reason = GUARD_FP_PLAN_REGRESSION;
		else if (!has_approved || !guard_baseline_approved_reads(query_hash, s->relname, false))
			reason = GUARD_FP_NEW_SEQSCAN;
		else
			continue;			/* an approved plan scans it as well */
		verdict->reasons |= reason;
		if (reason == GUARD_FP_PLAN_REGRESSION)
		{
			if (verdict->regressed == NULL)
			{
				verdict->regressed = s->relname;
				verdict->regressed_rows = s->rows;
			}
			if (OidIsValid(s->relid) &&
				verdict->nregressed < lengthof(verdict->regressed_relids))
				verdict->regressed_relids[verdict->nregressed++] = s->relid;
		}
		if (verdict->relation == NULL)
		{
			verdict->relation = s->relname;
			verdict->relation_rows = s->rows;
		}
		verdict->flagged = true;
	}
}


/*
 * guard_sibling_baseline: the approved plan of another statement of this
 * database whose text differs from query only in parentheses: the
 * statement a lost pair of parentheses came from.  Returns false if none.
 */
bool
guard_sibling_baseline(uint64 query_hash, const char *query,
					   uint64 *baseline_query_hash, uint64 *baseline_plan_hash)
{
	uint64		pairs[2 * 16];
	int			n = guard_store_siblings(MyDatabaseId, query_hash, query, pairs, 16);
	int			i;

	for (i = 0; i < n; i++)
		if (guard_baseline_status(pairs[2 * i], pairs[2 * i + 1]) == GUARD_STATUS_APPROVED)
		{
			*baseline_query_hash = pairs[2 * i];
			*baseline_plan_hash = pairs[2 * i + 1];
			return true;
		}
	return false;
}
