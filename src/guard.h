/*-------------------------------------------------------------------------
 *
 * guard.h
 *		Declarations shared by guard's source files.
 *
 * Data flows one way: hooks.c computes a GuardFingerprint (fingerprint.c)
 * for each new plan, keeps it inside the PlannedStmt, and records it in
 * the shared store (store.c), which sqlfuncs.c exposes as views.
 *
 * IDENTIFICATION
 *		src/guard.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_H
#define GUARD_H

#include "postgres.h"

#include "executor/execdesc.h"
#include "nodes/params.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "utils/timestamp.h"

/* Version of the fingerprint rules (doc/fingerprint.md). */
#define GUARD_FINGERPRINT_VERSION	1

/* SQLSTATE of every statement guard refuses to run (doc/errors.md). */
#define ERRCODE_GUARD_BLOCKED		MAKE_SQLSTATE('G','D','0','0','1')
/* A flagged plan waited too long for a limp-mode slot */
#define ERRCODE_GUARD_THROTTLED		MAKE_SQLSTATE('G','D','0','0','2')
/* The lost-parentheses lint (a warning, never an error) */
#define ERRCODE_GUARD_ANDOR			MAKE_SQLSTATE('G','D','0','0','3')

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
	GUARD_FAULT_BASELINE		/* ERROR in the middle of reading guard.baseline */
} GuardFault;

/* How the plan was made: fingerprint flags */
#define GUARD_FP_GENERIC		0x0001	/* planned without parameter values */
#define GUARD_FP_CUSTOM			0x0002	/* planned with parameter values */
#define GUARD_FP_FLAGGED		0x0100	/* the verdict at plan time: flagged */
#define GUARD_FP_NEW_SEQSCAN	0x0200	/* reason new_seqscan */
#define GUARD_FP_PLAN_REGRESSION 0x0400	/* reason plan_regression */
#define GUARD_FP_REJECTED		0x0800	/* reason rejected_plan */
#define GUARD_FP_REASONS		0x0E00
#define GUARD_FP_ANDOR			0x1000	/* lint: AND/OR without parentheses */
#define GUARD_FP_CORRECTED		0x2000	/* re-planned by guard.correct */
#define GUARD_FP_VALID			0x8000	/* the fingerprint was computed */

/* A relation read by a sequential scan, with its planner size estimate. */
typedef struct GuardSeqScan
{
	Oid			relid;			/* valid at plan time only */
	char	   *relname;		/* schema-qualified, quoted as needed */
	double		rows;			/* estimated rows of the whole relation */
} GuardSeqScan;

/*
 * Everything guard knows about one plan.  query_hash and plan_hash travel
 * with the PlannedStmt (guard_fingerprint_attach); the texts are built only
 * when the store has not seen the plan yet.
 */
typedef struct GuardFingerprint
{
	uint64		query_hash;
	uint64		plan_hash;
	uint64		queryid;		/* core queryId, 0 if not computed */
	uint32		flags;			/* GUARD_FP_* */
} GuardFingerprint;

/* Texts describing a plan, built on first sight (fingerprint.c) */
typedef struct GuardPlanTexts
{
	char	   *query;			/* normalized statement text */
	char	   *plan;			/* plan shape */
	int			nseqscans;
	GuardSeqScan *seqscans;
} GuardPlanTexts;

/* Per-planning facts collected by the get_relation_info hook (hooks.c) */
typedef struct GuardRelSize
{
	Oid			relid;
	double		tuples;
} GuardRelSize;

/* fingerprint.c */
extern uint64 guard_query_hash(Query *query, bool *has_params,
							   int **const_locations, int *nconsts,
							   bool *maybe_andor);
extern uint64 guard_plan_hash(PlannedStmt *pstmt, List **seqscanned);
extern char *guard_plan_shape(PlannedStmt *pstmt);
extern int	guard_plan_seqscans(PlannedStmt *pstmt, const GuardRelSize *sizes,
								int nsizes, GuardSeqScan **result);
extern void guard_fingerprint_attach(PlannedStmt *pstmt,
									 const GuardFingerprint *fp);
extern bool guard_fingerprint_get(PlannedStmt *pstmt, GuardFingerprint *fp);

/* normalize.c */
extern char *guard_normalize_query(const char *query, int query_loc,
								   int query_len, const int *locations,
								   int nlocations);
extern char *guard_statement_text(const char *query, int query_loc,
								  int query_len);
extern char *guard_clip_text(char *s, int len);

/* namecache.c: portable names of objects by OID, cached per backend */
extern void guard_namecache_init(void);
extern char *guard_relname_text(Oid relid);

/* store.c */
extern void guard_store_request(void);
extern void guard_store_startup(void);
extern Size guard_store_size(void);
extern bool guard_store_ready(void);
extern void guard_store_require(void);
extern void guard_store_release_locks(void);
extern bool guard_store_known(Oid dbid, const GuardFingerprint *fp);
extern void guard_store_add(Oid dbid, Oid userid, const GuardFingerprint *fp,
							const GuardPlanTexts *texts);
extern bool guard_store_count(Oid dbid, const GuardFingerprint *fp,
							  TimestampTz now);
extern void guard_store_reset(void);

/* Row of guard.plans as copied out of the store (sqlfuncs.c) */
typedef struct GuardPlanRow
{
	Oid			dbid;
	Oid			userid;
	uint64		query_hash;
	uint64		plan_hash;
	uint64		queryid;
	int64		calls;
	int64		generic_calls;
	int64		custom_calls;
	TimestampTz first_seen;
	TimestampTz last_seen;
	char	   *query;
	char	   *plan;
	int			nseqscans;
	GuardSeqScan *seqscans;
} GuardPlanRow;

typedef struct GuardStoreInfo
{
	int64		plans;
	int64		max_plans;
	int64		evictions;
	int64		text_bytes;
	int64		text_limit;
	int64		dropped_texts;
	TimestampTz stats_reset;
} GuardStoreInfo;

extern GuardPlanRow *guard_store_snapshot(int *nrows, bool with_texts);
extern bool guard_store_get(Oid dbid, uint64 query_hash, uint64 plan_hash,
							GuardPlanRow *row);
extern void guard_store_info(GuardStoreInfo *info);
extern int	guard_store_siblings(Oid dbid, uint64 query_hash, const char *query,
								 uint64 *pairs, int max);

/* baseline.c */
typedef enum GuardStatus
{
	GUARD_STATUS_NEW,
	GUARD_STATUS_APPROVED,
	GUARD_STATUS_REJECTED
} GuardStatus;

extern GuardStatus guard_baseline_status(uint64 query_hash, uint64 plan_hash);
extern uint64 guard_baseline_approved_plan(uint64 query_hash, const char *relname);
extern bool guard_baseline_has_approved(uint64 query_hash);
extern bool guard_baseline_known_empty;
extern bool guard_baseline_known_no_rejected;
extern bool guard_baseline_no_rejected_slow(void);

/* No rejected plan in this database?  A variable read when cached. */
static inline bool
guard_baseline_no_rejected(void)
{
	return guard_baseline_known_no_rejected || guard_baseline_no_rejected_slow();
}

extern bool guard_baseline_is_empty_slow(void);

/* No decision at all in this database?  A variable read when cached. */
static inline bool
guard_baseline_is_empty(void)
{
	return guard_baseline_known_empty || guard_baseline_is_empty_slow();
}
extern bool guard_baseline_approved_reads(uint64 query_hash, const char *relname,
										  bool by_index);
extern const char *guard_status_name(GuardStatus status);

/* hooks.c */
extern void guard_install_hooks(void);
extern bool guard_suppress_recording;
extern GuardRelSize *guard_last_sizes;
extern int	guard_last_nsizes;
extern void guard_fail_open(const char *what, MemoryContext cxt);
extern GuardPlanTexts *guard_build_texts(PlannedStmt *pstmt, const char *query_string,
										 int *const_locs, int nconsts,
										 const GuardRelSize *sizes, int nsizes);

/* lint.c */
extern char *guard_lint_andor(Query *query, const char *query_string);
extern void guard_lint_remember(uint64 query_hash, const char *clause);
extern const char *guard_lint_recall(uint64 query_hash);

/* incidents.c */
/* In order of severity: an incident whose action rises is announced again */
typedef enum GuardAction
{
	GUARD_ACTION_LOGGED,
	GUARD_ACTION_WARNED,
	GUARD_ACTION_THROTTLED,
	GUARD_ACTION_CORRECTED,
	GUARD_ACTION_BLOCKED
} GuardAction;

typedef enum GuardReason
{
	GUARD_REASON_NEW_SEQSCAN,
	GUARD_REASON_PLAN_REGRESSION,
	GUARD_REASON_REJECTED_PLAN,
	GUARD_REASON_ANDOR_PRECEDENCE
} GuardReason;

/* One occurrence of a flagged plan, as the executor saw it */
typedef struct GuardOccurrence
{
	uint64		query_hash;
	uint64		plan_hash;
	GuardReason reason;
	GuardAction action;
	GuardAction would_action;	/* what guard.mode = block would do */
	const char *relation;		/* NULL for rejected_plan, andor_precedence */
	double		relation_rows;
	uint64		baseline_query_hash;	/* the approved plan's statement */
	uint64		baseline_plan_hash;	/* 0: none */
	const char *clause;			/* andor_precedence finding, or NULL */
	const char *query;			/* texts, used when the incident is new */
	const char *plan;
} GuardOccurrence;

/* Row of guard.incidents as copied out of shared memory */
typedef struct GuardIncidentRow
{
	int64		incident_id;
	Oid			dbid;
	Oid			userid;
	uint64		query_hash;
	uint64		plan_hash;
	GuardReason reason;
	GuardAction action;
	GuardAction would_action;
	bool		resolved;
	int64		count;
	TimestampTz first_seen;
	TimestampTz last_seen;
	double		relation_rows;
	uint64		baseline_query_hash;
	uint64		baseline_plan_hash;
	char	   *relation;
	char	   *clause;
	char	   *query;
	char	   *plan;
} GuardIncidentRow;

extern Size guard_incidents_size(void);
extern void guard_incidents_request(void);
extern void guard_incidents_startup(void);
extern bool guard_incident_seen(Oid dbid, const GuardOccurrence *occ,
								TimestampTz now);
extern void guard_incident_record(Oid dbid, Oid userid, const GuardOccurrence *occ,
								  TimestampTz now);
extern GuardIncidentRow *guard_incidents_snapshot(int *nrows);
extern uint64 *guard_incidents_open_plans(Oid dbid, int *n);
extern bool guard_incidents_pairs_contain(const uint64 *pairs, int n,
										  uint64 query_hash, uint64 plan_hash);
extern void guard_incidents_resolve_at_commit(uint64 query_hash, uint64 plan_hash);
extern void guard_incidents_reset(void);
extern void guard_incidents_release_locks(void);
extern const char *guard_action_name(GuardAction action);
extern const char *guard_reason_name(GuardReason reason);
extern void guard_incidents_info(int64 *count, int64 *max, int64 *evictions);
/* bgworker entry point */
extern PGDLLEXPORT void guard_notifier_main(Datum arg);

/* throttle.c: limp mode */
extern void guard_throttle_request(void);
extern void guard_throttle_startup(void);
extern Size guard_throttle_size(void);
extern bool guard_throttle_enter(QueryDesc *queryDesc);
extern void guard_throttle_leave(QueryDesc *queryDesc);
extern bool guard_throttle_active;
extern int	guard_throttle_running(void);
extern void guard_throttle_counters(int64 *waits, int64 *timeouts);

/* policy.c */
typedef struct GuardVerdict
{
	bool		flagged;
	uint32		reasons;		/* GUARD_FP_NEW_SEQSCAN | ... */
	char	   *relation;		/* first flagged relation, or NULL */
	double		relation_rows;
	char	   *regressed;		/* first plan_regression relation, or NULL */
	double		regressed_rows;
	int			nregressed;		/* relids of plan_regression relations */
	Oid			regressed_relids[16];
} GuardVerdict;

extern void guard_policy_evaluate(uint64 query_hash, uint64 plan_hash,
								  const GuardSeqScan *seqscans, int nseqscans,
								  GuardVerdict *verdict);
extern List *guard_reason_names(uint32 reasons);
extern bool guard_policy_flags_row(const GuardPlanRow *row);
extern bool guard_sibling_baseline(uint64 query_hash, const char *query,
								   uint64 *baseline_query_hash,
								   uint64 *baseline_plan_hash);

#endif							/* GUARD_H */
