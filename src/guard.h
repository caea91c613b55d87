/*-------------------------------------------------------------------------
 *
 * guard.h
 *		What every guard source file needs: the settings, the SQLSTATEs,
 *		the fingerprint a plan carries, and the names of statuses, reasons
 *		and actions.
 *
 * Each module has a header of its own (fingerprint.h, judge.h, enforce.h,
 * store.h, ...): a file's #includes show what it depends on.  The module
 * map and the data flow of one statement are in doc/internals.md.
 *
 * IDENTIFICATION
 *		src/guard.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_H
#define GUARD_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/palloc.h"

/*
 * Version of the fingerprint rules in force (doc/fingerprint.md): the
 * setting guard.fingerprint_rules, fixed at server start.  It seeds both
 * hashes, travels with every plan's fingerprint and heads the saved store
 * file, so a hash made under one version is never read as another's.
 */
extern int	guard_fingerprint_rules;

#define GUARD_FINGERPRINT_RULES_DEFAULT	2
#define GUARD_FINGERPRINT_RULES_MAX		2
#define GUARD_FINGERPRINT_VERSION	((uint32) guard_fingerprint_rules)

/*
 * SQLSTATEs (doc/errors.md).  Class QG lies in the range the SQL standard
 * leaves to implementations (first character I-Z) and PostgreSQL uses no
 * class starting with Q.
 */
/* every statement guard refuses to run */
#define ERRCODE_GUARD_BLOCKED		MAKE_SQLSTATE('Q','G','0','0','1')
/* a flagged plan waited too long for a limp-mode slot */
#define ERRCODE_GUARD_THROTTLED		MAKE_SQLSTATE('Q','G','0','0','2')
/* the lost-parentheses lint (a warning, never an error) */
#define ERRCODE_GUARD_ANDOR			MAKE_SQLSTATE('Q','G','0','0','3')

/* guard.mode */
typedef enum GuardMode
{
	GUARD_MODE_OFF,
	GUARD_MODE_OBSERVE,
	GUARD_MODE_WARN,
	GUARD_MODE_BLOCK
} GuardMode;

/* guard.track */
typedef enum GuardTrack
{
	GUARD_TRACK_TOP,
	GUARD_TRACK_ALL
} GuardTrack;

/* GUC variables (guard.c) */
extern int	guard_mode;
extern int	guard_track;
extern int	guard_seqscan_min_rows;
extern int	guard_max_plans;
extern int	guard_text_memory_kb;
extern bool guard_save;
extern int	guard_debug_fault;
extern char *guard_allow_seqscan;
extern int	guard_max_incidents;
extern int	guard_flagged_max_concurrency;
extern int	guard_flagged_wait_timeout;
extern bool guard_correct;
extern bool guard_explain_verdict;

/* guard.debug_fault: make guard fail on purpose, to test fail-open */
typedef enum GuardFault
{
	GUARD_FAULT_NONE,
	GUARD_FAULT_FINGERPRINT,	/* ERROR while fingerprinting a plan */
	GUARD_FAULT_STORE,			/* ERROR while holding the store's lock */
	GUARD_FAULT_BASELINE,		/* ERROR in the middle of reading guard.baseline */
	GUARD_FAULT_LINT,			/* ERROR in the AND/OR lint */
	GUARD_FAULT_INCIDENT		/* ERROR while recording an incident */
} GuardFault;

/* How the plan was made and judged: fingerprint flags */
#define GUARD_FP_GENERIC		0x0001	/* planned without parameter values */
#define GUARD_FP_CUSTOM			0x0002	/* planned with parameter values */
#define GUARD_FP_JUDGED			0x0004	/* a GuardJudgment travels with the plan */
#define GUARD_FP_PROFILE		0x0010	/* planned under a statistics profile */
#define GUARD_FP_FOREIGN		0x0008	/* decided by a decision made under other
										 * fingerprint rules, matched by texts */
#define GUARD_FP_FLAGGED		0x0100	/* the verdict at plan time: flagged */
#define GUARD_FP_NEW_SEQSCAN	0x0200	/* reason new_seqscan */
#define GUARD_FP_PLAN_REGRESSION 0x0400	/* reason plan_regression */
#define GUARD_FP_REJECTED		0x0800	/* reason rejected_plan */
#define GUARD_FP_REASONS		0x0E00
#define GUARD_FP_ANDOR			0x1000	/* lint: AND/OR without parentheses */
#define GUARD_FP_CORRECTED		0x2000	/* re-planned by guard.correct */
#define GUARD_FP_REFUSED		0x4000	/* store only: guard blocked or throttled it */
#define GUARD_FP_VALID			0x8000	/* the fingerprint was computed */

/*
 * Everything guard must know about every plan, carried inside the
 * PlannedStmt (fingerprint.c) so that a cached plan is never hashed or
 * judged again.  A flagged plan carries its GuardJudgment too (judge.h).
 */
typedef struct GuardFingerprint
{
	uint64		query_hash;
	uint64		plan_hash;
	uint64		queryid;		/* core queryId, 0 if not computed */
	uint32		flags;			/* GUARD_FP_* */
} GuardFingerprint;

/* The DBA's decision on a plan (guard.baseline.status) */
typedef enum GuardStatus
{
	GUARD_STATUS_NEW,
	GUARD_STATUS_APPROVED,
	GUARD_STATUS_REJECTED
} GuardStatus;

/* Why a plan is flagged (guard.incidents.reason) */
typedef enum GuardReason
{
	GUARD_REASON_NEW_SEQSCAN,
	GUARD_REASON_PLAN_REGRESSION,
	GUARD_REASON_REJECTED_PLAN,
	GUARD_REASON_ANDOR_PRECEDENCE
} GuardReason;

#define GUARD_NREASONS	4

/*
 * What guard did (guard.incidents.action), in order of severity: an
 * incident whose action rises is announced again.
 */
typedef enum GuardAction
{
	GUARD_ACTION_LOGGED,
	GUARD_ACTION_WARNED,
	GUARD_ACTION_THROTTLED,
	GUARD_ACTION_CORRECTED,
	GUARD_ACTION_BLOCKED
} GuardAction;

/* names.c: the one table of names for statuses, reasons and actions */
extern const char *guard_status_name(GuardStatus status);
extern const char *guard_reason_name(GuardReason reason);
extern const char *guard_action_name(GuardAction action);
extern uint32 guard_reason_flag(GuardReason reason);
extern List *guard_reason_names(uint32 flags);

/* failopen.c: turn guard's own failure into a WARNING (PG_CATCH only) */
extern void guard_fail_open(const char *what, const char *detail,
							MemoryContext cxt);

/* DETAIL of a failure that cost the statement only its record */
#define GUARD_VERDICT_KEPT \
	"The statement is still judged; only guard's record of it is missing."

#endif							/* GUARD_H */
