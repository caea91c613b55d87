/*-------------------------------------------------------------------------
 *
 * names.c
 *		The one table of names: statuses, reasons and actions as they
 *		appear in views, messages, the LOG line and the incident file.
 *
 * The enums in guard.h are guard's own; only these names leave the
 * backend, so renumbering an enum never changes anything a user sees.
 *
 * IDENTIFICATION
 *		src/names.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/pg_list.h"

#include "guard.h"

static const char *const status_names[] = {
	[GUARD_STATUS_NEW] = "new",
	[GUARD_STATUS_APPROVED] = "approved",
	[GUARD_STATUS_REJECTED] = "rejected",
};

/* reasons, in the order messages list them, with their fingerprint flag */
static const struct
{
	const char *name;
	uint32		flag;
}			reasons[GUARD_NREASONS] = {
	[GUARD_REASON_NEW_SEQSCAN] = {"new_seqscan", GUARD_FP_NEW_SEQSCAN},
	[GUARD_REASON_PLAN_REGRESSION] = {"plan_regression", GUARD_FP_PLAN_REGRESSION},
	[GUARD_REASON_REJECTED_PLAN] = {"rejected_plan", GUARD_FP_REJECTED},
	[GUARD_REASON_ANDOR_PRECEDENCE] = {"andor_precedence", GUARD_FP_ANDOR},
};

static const char *const action_names[] = {
	[GUARD_ACTION_LOGGED] = "logged",
	[GUARD_ACTION_WARNED] = "warned",
	[GUARD_ACTION_THROTTLED] = "throttled",
	[GUARD_ACTION_CORRECTED] = "corrected",
	[GUARD_ACTION_BLOCKED] = "blocked",
};

const char *
guard_status_name(GuardStatus status)
{
	if ((int) status < 0 || (int) status >= lengthof(status_names))
		return "?";
	return status_names[status];
}

const char *
guard_reason_name(GuardReason reason)
{
	if ((int) reason < 0 || (int) reason >= GUARD_NREASONS)
		return "?";
	return reasons[reason].name;
}

const char *
guard_action_name(GuardAction action)
{
	if ((int) action < 0 || (int) action >= lengthof(action_names))
		return "?";
	return action_names[action];
}

/* The fingerprint flag (GUARD_FP_*) of a reason */
uint32
guard_reason_flag(GuardReason reason)
{
	if ((int) reason < 0 || (int) reason >= GUARD_NREASONS)
		return 0;
	return reasons[reason].flag;
}

/* guard_reason_names: the reasons set in flags, as names, in a fixed order */
List *
guard_reason_names(uint32 flags)
{
	List	   *names = NIL;
	int			i;

	for (i = 0; i < GUARD_NREASONS; i++)
		if (flags & reasons[i].flag)
			names = lappend(names, (char *) reasons[i].name);
	return names;
}
