/*-------------------------------------------------------------------------
 *
 * incidents.h
 *		The review queue (incidents.c): one incident per (database, reason,
 *		query_hash, plan_hash), in shared memory, persisted, announced by a
 *		LOG line and a NOTIFY from the notifier (notifier.c); bounded per
 *		role and per database, alerts rate-limited per role.
 *
 * Locking is documented in incidents.c's banner.
 *
 * IDENTIFICATION
 *		src/incidents.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_INCIDENTS_H
#define GUARD_INCIDENTS_H

#include "utils/timestamp.h"

#include "guard.h"

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
	int			rules;			/* guard.fingerprint_rules of its hashes */
} GuardIncidentRow;

/*
 * Bounds (doc/configuration.md, guard.max_incidents): a role may hold at
 * most 1/GUARD_INCIDENT_ROLE_SHARE of the table, a database at most
 * 1/GUARD_INCIDENT_DB_SHARE; at most GUARD_INCIDENT_ALERTS_PER_MINUTE
 * alerts (LOG line and NOTIFY) per role and minute; ids are reserved on
 * disk GUARD_INCIDENT_ID_BLOCK at a time.
 */
#define GUARD_INCIDENT_ROLE_SHARE			4
#define GUARD_INCIDENT_DB_SHARE				2
#define GUARD_INCIDENT_ALERTS_PER_MINUTE	10
#define GUARD_INCIDENT_ID_BLOCK				1024

extern Size guard_incidents_size(void);
extern void guard_incidents_request(void);
extern void guard_incidents_startup(void);
extern bool guard_incident_exists(Oid dbid, const GuardOccurrence *occ);
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
extern void guard_incidents_info(int64 *count, int64 *max, int64 *evictions);

/* guard.reset(userid, dbid, query_hash): 0 matches any */
extern void guard_incidents_reset_matching(Oid userid, Oid dbid, uint64 query_hash);

/* Counters of guard.info added in extension 0.4 */
typedef struct GuardIncidentCounters
{
	int64		dropped;		/* new incidents not recorded: no room */
	int64		suppressed;		/* alerts (LOG line, NOTIFY) not sent */
} GuardIncidentCounters;

extern void guard_incidents_counters(GuardIncidentCounters *c);

/*
 * What the notifier (notifier.c) sends about an incident: no texts, so
 * that a NOTIFY, which any role of the database may LISTEN to, says no
 * more than guard.incidents shows that role.
 */
typedef struct GuardIncidentNote
{
	Oid			dbid;
	GuardReason reason;
	GuardAction action;
	uint64		query_hash;
	uint64		plan_hash;
	int64		incident_id;
} GuardIncidentNote;

extern int	guard_incidents_take_pending(Oid dbid, GuardIncidentNote *notes, int max);
extern void guard_incidents_done_pending(const GuardIncidentNote *notes, int n);
extern void guard_incidents_save(void);

#endif							/* GUARD_INCIDENTS_H */
