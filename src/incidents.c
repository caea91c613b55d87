/*-------------------------------------------------------------------------
 *
 * incidents.c
 *		guard.incidents: what guard caught, deduplicated, in shared memory;
 *		the alert (one LOG line, a NOTIFY) for each new one.
 *
 * An incident is keyed by (database, reason, query_hash, plan_hash) and
 * counts its occurrences between first_seen and last_seen.  Incidents live
 * in shared memory, not in a table: they must survive the rollback of the
 * statement guard blocked, and they must work on a hot standby.  The texts
 * of an entry are fixed-size and clipped: an incident is read by a person,
 * and its plan and query are also in guard.plans.
 *
 * Bounds.  The table holds guard.max_incidents entries, and no role or
 * database may flood the review queue: a role (the incident's userid) may
 * hold at most a quarter of the table, a database at most half.  A new
 * incident of a role at its share replaces that role's own oldest incident
 * (resolved ones first); of a database at its share, the database's oldest
 * resolved incident or one of the role's own.  Only when the role and the
 * database are within their shares and the table is full does it replace
 * the oldest resolved incident, else the oldest incident of the role that
 * holds the most.  An unresolved incident of another role is never evicted
 * for a role or database over its share: when nothing may go, the new
 * incident is dropped and counted (guard.info.incidents_dropped).
 *
 * Alerting.  A new incident (or one reopened, or escalated to a more
 * severe action) writes one LOG line whose message is a JSON object, and
 * is marked for the notifier (notifier.c), which sends its NOTIFY.  At
 * most GUARD_INCIDENT_ALERTS_PER_MINUTE alerts per role and minute go out;
 * the rest are counted (guard.info.incident_alerts_suppressed) and summed
 * up in one LOG line when the role's minute is over.
 *
 * Persistence.  pg_stat/guard_incidents.stat is read at every start,
 * crash restarts included: the incident that melted the server must still
 * be there afterwards.  The backend that raises an alert writes the file
 * before its LOG line, so an incident that was logged survives any crash;
 * the notifier writes it after each batch, the postmaster at clean
 * shutdown.  Incident ids are never reused: they are handed out below a
 * ceiling that the file records before any id under it is used (blocks of
 * GUARD_INCIDENT_ID_BLOCK); after a crash, numbering goes on from the
 * ceiling.  A server restored from a base backup (backup_label present at
 * start) ignores the incidents it copied and numbers its own in a fresh
 * random epoch (id = epoch << 40 | sequence), so that a standby's ids never
 * collide with its primary's.  Format: doc/file-formats.md.
 *
 * Locking: incidents->lock (LWLock) guards the table, the id counters and
 * the alert rates; an entry's counters are updated under LW_SHARED plus the
 * entry's spinlock.  Nothing under either can ERROR.  incidents->file_lock
 * (LWLock) serializes the writers of the file, so that an older copy never
 * replaces a newer one; it is taken before incidents->lock, never after.
 *
 * IDENTIFICATION
 *		src/incidents.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <unistd.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/dbcommands.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "guard.h"
#include "incidents.h"
#include "notifier.h"

#define INCIDENTS_FILE			PGSTAT_STAT_PERMANENT_DIRECTORY "/guard_incidents.stat"
#define INCIDENTS_FILE_MAGIC	0x47444931	/* "GDI1" */
#define INCIDENTS_FILE_VERSION	2
#define INCIDENT_TEXT			2048	/* query and plan, clipped */
#define INCIDENT_CLAUSE			512
#define INCIDENT_RELATION		(2 * NAMEDATALEN + 8)
#define EPOCH_SHIFT				40
#define EPOCH_MAX				((INT64CONST(1) << 23) - 1)
#define RATE_SLOTS				64	/* roles rate-limited at once */
#define RATE_WINDOW				(60 * USECS_PER_SEC)

typedef struct IncidentKey
{
	Oid			dbid;
	uint32		reason;
	uint64		query_hash;
	uint64		plan_hash;
} IncidentKey;

/* One incident */
typedef struct IncidentData
{
	int64		incident_id;
	Oid			userid;			/* role of the first occurrence */
	uint8		action;			/* GuardAction of the last occurrence */
	uint8		would_action;
	bool		resolved;
	bool		notify_pending;
	int64		count;
	TimestampTz first_seen;
	TimestampTz last_seen;
	double		relation_rows;
	uint64		baseline_query_hash;
	uint64		baseline_plan_hash;
	char		relation[INCIDENT_RELATION];
	char		clause[INCIDENT_CLAUSE];
	char		query[INCIDENT_TEXT];
	char		plan[INCIDENT_TEXT];
} IncidentData;

typedef struct IncidentEntry
{
	IncidentKey key;			/* hash key: must be first */
	slock_t		mutex;			/* protects the counters of d */
	IncidentData d;
} IncidentEntry;

/* Alerts of one role in its current minute */
typedef struct RateSlot
{
	Oid			userid;			/* InvalidOid: free */
	TimestampTz window_start;
	int32		alerted;
	int64		suppressed;
} RateSlot;

/* A role whose alerts were suppressed in its last minute */
typedef struct RateSummary
{
	Oid			userid;
	int64		suppressed;
} RateSummary;

typedef struct IncidentsShared
{
	LWLock	   *lock;
	LWLock	   *file_lock;
	int64		next_id;
	int64		reserved;		/* id ceiling the next file write records */
	int64		saved_ceiling;	/* ceiling the file on disk records */
	uint64		system_identifier;
	int64		evictions;
	int64		dropped;
	int64		suppressed;
	RateSlot	rate[RATE_SLOTS];
} IncidentsShared;

static IncidentsShared *ishared = NULL;
static HTAB *incident_hash = NULL;

static void incidents_shutdown(int code, Datum arg);
static void incidents_load_file(bool restored);
static bool incidents_write_file(bool clean);

Size
guard_incidents_size(void)
{
	return add_size(add_size(MAXALIGN(sizeof(IncidentsShared)),
							 hash_estimate_size(guard_max_incidents, sizeof(IncidentEntry))),
					guard_notifier_size());
}

void
guard_incidents_request(void)
{
	RequestAddinShmemSpace(add_size(MAXALIGN(sizeof(IncidentsShared)),
									hash_estimate_size(guard_max_incidents,
													   sizeof(IncidentEntry))));
	RequestNamedLWLockTranche("guard incidents", 2);
	guard_notifier_request();
}

void
guard_incidents_startup(void)
{
	bool		found;
	HASHCTL		info;

	ishared = NULL;
	incident_hash = NULL;
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ishared = ShmemInitStruct("guard incidents", sizeof(IncidentsShared), &found);
	if (!found)
	{
		LWLockPadded *locks = GetNamedLWLockTranche("guard incidents");

		memset(ishared, 0, sizeof(*ishared));
		ishared->lock = &locks[0].lock;
		ishared->file_lock = &locks[1].lock;
		ishared->next_id = 1;
		ishared->reserved = 1;
		ishared->saved_ceiling = 1;
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(IncidentKey);
	info.entrysize = sizeof(IncidentEntry);
	incident_hash = ShmemInitHash("guard incidents hash", guard_max_incidents,
								  guard_max_incidents, &info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
	guard_notifier_startup();

	if (!IsUnderPostmaster)
	{
		on_shmem_exit(incidents_shutdown, (Datum) 0);
		if (!found)
		{
			/*
			 * pg_basebackup and the backup API put backup_label into the
			 * copy; the startup process renames it only after this hook.
			 */
			bool		restored = access(BACKUP_LABEL_FILE, F_OK) == 0;

			ishared->system_identifier = GetSystemIdentifier();
			incidents_load_file(restored);
		}
	}
}

/* Release the locks if this backend holds them (fail-open path). */
void
guard_incidents_release_locks(void)
{
	if (ishared != NULL && LWLockHeldByMe(ishared->lock))
	{
		HOLD_INTERRUPTS();		/* see guard_store_release_locks */
		LWLockRelease(ishared->lock);
	}
	if (ishared != NULL && LWLockHeldByMe(ishared->file_lock))
	{
		HOLD_INTERRUPTS();
		LWLockRelease(ishared->file_lock);
	}
	guard_notifier_release_locks();
}

static inline void
make_key(IncidentKey *key, Oid dbid, const GuardOccurrence *occ)
{
	memset(key, 0, sizeof(*key));
	key->dbid = dbid;
	key->reason = (uint32) occ->reason;
	key->query_hash = occ->query_hash;
	key->plan_hash = occ->plan_hash;
}

/* Copy s into a fixed buffer, clipped on a character boundary. */
static void
copy_clipped(char *dst, const char *s, int size)
{
	int			len;

	if (s == NULL)
	{
		dst[0] = '\0';
		return;
	}
	len = strlen(s);
	if (len >= size)
		len = pg_mbcliplen(s, len, size - 1);
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/*
 * Count one occurrence at now.  Occurrences arrive out of order (now is the
 * statement's start, and a statement that started earlier may reach here
 * later): first_seen only moves back, last_seen only forward, so that
 * first_seen <= last_seen always holds.  Caller holds e->mutex.
 */
static inline void
count_occurrence(IncidentEntry *e, const GuardOccurrence *occ, TimestampTz now)
{
	e->d.count++;
	if (now > e->d.last_seen)
		e->d.last_seen = now;
	if (now < e->d.first_seen)
		e->d.first_seen = now;
	e->d.action = (uint8) occ->action;
	e->d.would_action = (uint8) occ->would_action;
}

/*
 * Bump an existing entry.  Caller holds the lock exclusively.  Returns true
 * if the occurrence is news: the incident was resolved and is back, or
 * guard now acts more severely (logged -> blocked when block mode is
 * switched on): the alert goes out again.
 */
static bool
bump(IncidentEntry *e, const GuardOccurrence *occ, TimestampTz now)
{
	bool		news;

	SpinLockAcquire(&e->mutex);
	news = e->d.resolved || (uint8) occ->action > e->d.action;
	count_occurrence(e, occ, now);
	e->d.resolved = false;
	SpinLockRelease(&e->mutex);
	return news;
}

/*
 * guard_incident_seen: count one more occurrence of a known incident.
 * Returns false when the incident is new (the caller then builds its texts
 * and calls guard_incident_record), was resolved and is back, or escalates.
 */
bool
guard_incident_seen(Oid dbid, const GuardOccurrence *occ, TimestampTz now)
{
	IncidentKey key;
	IncidentEntry *e;
	bool		known = false;

	make_key(&key, dbid, occ);
	LWLockAcquire(ishared->lock, LW_SHARED);
	e = hash_search(incident_hash, &key, HASH_FIND, NULL);
	if (e != NULL)
	{
		SpinLockAcquire(&e->mutex);
		known = !e->d.resolved && (uint8) occ->action <= e->d.action;
		if (known)
			count_occurrence(e, occ, now);
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(ishared->lock);
	return known;
}

/* Is a a better eviction victim than b?  Resolved first, then oldest. */
static inline bool
better_victim(const IncidentEntry *a, const IncidentEntry *b)
{
	if (b == NULL)
		return true;
	if (a->d.resolved != b->d.resolved)
		return a->d.resolved;
	return a->d.last_seen < b->d.last_seen;
}

static int
cmp_oid(const void *a, const void *b)
{
	Oid			x = *(const Oid *) a;
	Oid			y = *(const Oid *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * The table is full and the newcomer within its shares: the oldest
 * incident of the role that holds the most.  Caller holds the lock
 * exclusively (nothing here can ERROR: the allocation degrades).
 */
static IncidentEntry *
victim_of_biggest_holder(void)
{
	HASH_SEQ_STATUS hs;
	IncidentEntry *e;
	IncidentEntry *victim = NULL;
	long		n = hash_get_num_entries(incident_hash);
	Oid		   *roles;
	Oid			biggest = InvalidOid;
	long		i = 0;
	long		run = 0;
	long		best = 0;

	roles = palloc_extended(Max(n, 1) * sizeof(Oid), MCXT_ALLOC_NO_OOM);
	if (roles != NULL)
	{
		hash_seq_init(&hs, incident_hash);
		while ((e = hash_seq_search(&hs)) != NULL)
		{
			if (i < n)
				roles[i++] = e->d.userid;
		}
		qsort(roles, i, sizeof(Oid), cmp_oid);
		for (n = 0; n < i; n++)
		{
			run = (n > 0 && roles[n] == roles[n - 1]) ? run + 1 : 1;
			if (run > best)
			{
				best = run;
				biggest = roles[n];
			}
		}
		pfree(roles);
	}
	hash_seq_init(&hs, incident_hash);
	while ((e = hash_seq_search(&hs)) != NULL)
	{
		if (roles != NULL && e->d.userid != biggest)
			continue;
		if (better_victim(e, victim))
			victim = e;
	}
	return victim;
}

/*
 * Make room for a new incident of role userid in database dbid, by the
 * rules of the banner.  Caller holds the lock exclusively.  Returns false
 * if the new incident must be dropped.
 */
static bool
make_room(Oid dbid, Oid userid)
{
	HASH_SEQ_STATUS hs;
	IncidentEntry *e;
	IncidentEntry *own = NULL;	/* the role's own */
	IncidentEntry *in_db = NULL;	/* the database's resolved, or own there */
	IncidentEntry *resolved = NULL; /* any resolved one */
	IncidentEntry *victim;
	long		role_n = 0;
	long		db_n = 0;
	long		role_cap = Max(guard_max_incidents / GUARD_INCIDENT_ROLE_SHARE, 1);
	long		db_cap = Max(guard_max_incidents / GUARD_INCIDENT_DB_SHARE, 1);

	hash_seq_init(&hs, incident_hash);
	while ((e = hash_seq_search(&hs)) != NULL)
	{
		if (e->d.userid == userid)
		{
			role_n++;
			if (better_victim(e, own))
				own = e;
		}
		if (e->key.dbid == dbid)
		{
			db_n++;
			if ((e->d.resolved || e->d.userid == userid) && better_victim(e, in_db))
				in_db = e;
		}
		if (e->d.resolved && better_victim(e, resolved))
			resolved = e;
	}
	if (role_n >= role_cap)
		victim = own;
	else if (db_n >= db_cap)
		victim = in_db;
	else if (hash_get_num_entries(incident_hash) >= guard_max_incidents)
		victim = resolved ? resolved : victim_of_biggest_holder();
	else
		return true;
	if (victim == NULL)
		return false;
	hash_search(incident_hash, &victim->key, HASH_REMOVE, NULL);
	ishared->evictions++;
	return true;
}

/*
 * Insert an entry, no questions asked (loading the file).  Caller holds
 * the lock exclusively or is the postmaster.  Returns NULL if there is no
 * room.
 */
static IncidentEntry *
insert_raw(const IncidentKey *key)
{
	IncidentEntry *e;
	bool		found;

	if (hash_get_num_entries(incident_hash) >= guard_max_incidents)
		return NULL;
	e = hash_search(incident_hash, key, HASH_ENTER_NULL, &found);
	if (e == NULL || found)
		return NULL;
	SpinLockInit(&e->mutex);
	memset(&e->d, 0, sizeof(e->d));
	return e;
}

/*
 * May role userid raise one more alert now?  Caller holds the lock
 * exclusively.  Roles whose minute is over and who had alerts suppressed
 * are added to summaries (room for RATE_SLOTS + 1), for the caller to log.
 */
static bool
rate_allow(Oid userid, TimestampTz now, RateSummary *summaries, int *nsummaries)
{
	RateSlot   *slot = NULL;
	RateSlot   *free_slot = NULL;
	RateSlot   *oldest = NULL;
	int			i;

	for (i = 0; i < RATE_SLOTS; i++)
	{
		RateSlot   *r = &ishared->rate[i];

		if (r->userid != InvalidOid &&
			(now - r->window_start >= RATE_WINDOW || now < r->window_start))
		{
			if (r->suppressed > 0)
			{
				summaries[*nsummaries].userid = r->userid;
				summaries[(*nsummaries)++].suppressed = r->suppressed;
			}
			r->userid = InvalidOid;
		}
		if (r->userid == userid && userid != InvalidOid)
			slot = r;
		else if (r->userid == InvalidOid)
		{
			if (free_slot == NULL)
				free_slot = r;
		}
		else if (oldest == NULL || r->window_start < oldest->window_start)
			oldest = r;
	}
	if (slot == NULL)
	{
		/* more than RATE_SLOTS roles alerting within a minute: reuse one */
		slot = free_slot ? free_slot : oldest;
		if (slot->userid != InvalidOid && slot->suppressed > 0)
		{
			summaries[*nsummaries].userid = slot->userid;
			summaries[(*nsummaries)++].suppressed = slot->suppressed;
		}
		slot->userid = userid;
		slot->window_start = now;
		slot->alerted = 0;
		slot->suppressed = 0;
	}
	if (slot->alerted < GUARD_INCIDENT_ALERTS_PER_MINUTE)
	{
		slot->alerted++;
		return true;
	}
	slot->suppressed++;
	ishared->suppressed++;
	return false;
}

/* JSON object describing an incident (the LOG line). */
static char *
incident_json(const IncidentKey *key, const IncidentData *d, const char *dbname,
			  const char *rolename)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"incident_id\": " INT64_FORMAT ", \"database\": ", d->incident_id);
	escape_json(&buf, dbname ? dbname : "");
	appendStringInfoString(&buf, ", \"role\": ");
	escape_json(&buf, rolename ? rolename : "");
	appendStringInfo(&buf, ", \"query_hash\": %lld, \"plan_hash\": %lld, \"reason\": \"%s\"",
					 (long long) key->query_hash, (long long) key->plan_hash,
					 guard_reason_name((GuardReason) key->reason));
	appendStringInfoString(&buf, ", \"relation\": ");
	if (d->relation[0])
	{
		escape_json(&buf, d->relation);
		appendStringInfo(&buf, ", \"relation_rows\": %.0f", d->relation_rows);
	}
	else
		appendStringInfoString(&buf, "null, \"relation_rows\": null");
	appendStringInfo(&buf, ", \"action\": \"%s\", \"would_action\": \"%s\"",
					 guard_action_name((GuardAction) d->action),
					 guard_action_name((GuardAction) d->would_action));
	if (d->baseline_plan_hash != 0)
		appendStringInfo(&buf, ", \"baseline_query_hash\": %lld, \"baseline_plan_hash\": %lld",
						 (long long) d->baseline_query_hash,
						 (long long) d->baseline_plan_hash);
	if (d->clause[0])
	{
		appendStringInfoString(&buf, ", \"clause\": ");
		escape_json(&buf, d->clause);
	}
	appendStringInfoString(&buf, ", \"count\": ");
	appendStringInfo(&buf, INT64_FORMAT, d->count);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * Make sure the file records a ceiling well above the next id before ids
 * are handed out under it (see the banner).  Writes the file when less
 * than half a block is left.  A failed write is logged by the writer; ids
 * are handed out anyway (recording the incident matters more).
 */
static void
reserve_ids(void)
{
	bool		need;

	LWLockAcquire(ishared->lock, LW_SHARED);
	need = ishared->next_id + GUARD_INCIDENT_ID_BLOCK / 2 >= ishared->saved_ceiling;
	LWLockRelease(ishared->lock);
	if (!need)
		return;
	LWLockAcquire(ishared->lock, LW_EXCLUSIVE);
	if (ishared->reserved < ishared->next_id + GUARD_INCIDENT_ID_BLOCK)
		ishared->reserved = ishared->next_id + GUARD_INCIDENT_ID_BLOCK;
	LWLockRelease(ishared->lock);
	(void) incidents_write_file(false);
}

/* Log the roles whose alerts were suppressed. */
static void
log_summaries(const RateSummary *summaries, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		const char *role = GetUserNameFromId(summaries[i].userid, true);

		ereport(LOG,
				(errmsg("guard suppressed the alerts of " INT64_FORMAT " more incidents of role \"%s\"",
						summaries[i].suppressed, role ? role : "?"),
				 errdetail("At most %d new incidents of one role are logged and notified per minute; guard.incidents lists them all.",
						   GUARD_INCIDENT_ALERTS_PER_MINUTE),
				 errhidestmt(true),
				 errhidecontext(true)));
	}
}

/*
 * guard_incident_record: record an occurrence that guard_incident_seen
 * did not count.  A new or reopened incident, unless its role is over its
 * alert rate, is saved to the file, then gets its LOG line and is queued
 * for notification.
 */
void
guard_incident_record(Oid dbid, Oid userid, const GuardOccurrence *occ,
					  TimestampTz now)
{
	IncidentKey key;
	IncidentEntry *e;
	IncidentData copy;
	bool		fresh = false;
	bool		alert = false;
	RateSummary summaries[RATE_SLOTS + 1];
	int			nsummaries = 0;
	char	   *json;

	make_key(&key, dbid, occ);
	reserve_ids();
	LWLockAcquire(ishared->lock, LW_EXCLUSIVE);
	e = hash_search(incident_hash, &key, HASH_FIND, NULL);
	if (e == NULL)
	{
		bool		found;

		if (make_room(dbid, userid))
			e = hash_search(incident_hash, &key, HASH_ENTER_NULL, &found);
		if (e == NULL)
		{
			ishared->dropped++;
			LWLockRelease(ishared->lock);
			return;
		}
		fresh = true;
		SpinLockInit(&e->mutex);
		memset(&e->d, 0, sizeof(e->d));
		e->d.incident_id = ishared->next_id++;
		e->d.userid = userid;
		e->d.action = (uint8) occ->action;
		e->d.would_action = (uint8) occ->would_action;
		e->d.count = 1;
		e->d.first_seen = e->d.last_seen = now;
		e->d.relation_rows = occ->relation ? occ->relation_rows : 0;
		e->d.baseline_query_hash = occ->baseline_query_hash;
		e->d.baseline_plan_hash = occ->baseline_plan_hash;
		copy_clipped(e->d.relation, occ->relation, INCIDENT_RELATION);
		copy_clipped(e->d.clause, occ->clause, INCIDENT_CLAUSE);
		copy_clipped(e->d.query, occ->query, INCIDENT_TEXT);
		copy_clipped(e->d.plan, occ->plan, INCIDENT_TEXT);
		if (ishared->reserved <= ishared->next_id)
			ishared->reserved = ishared->next_id + GUARD_INCIDENT_ID_BLOCK;
	}
	if (fresh || bump(e, occ, now))
	{
		alert = rate_allow(userid, GetCurrentTimestamp(), summaries, &nsummaries);
		if (alert)
			e->d.notify_pending = true; /* under the exclusive lock */
	}
	SpinLockAcquire(&e->mutex);
	copy = e->d;
	SpinLockRelease(&e->mutex);
	LWLockRelease(ishared->lock);

	log_summaries(summaries, nsummaries);
	if (!alert)
		return;

	/* on disk before the LOG line: a logged incident survives any crash */
	(void) incidents_write_file(false);
	guard_notifier_wake(dbid);
	json = incident_json(&key, &copy, get_database_name(dbid),
						 GetUserNameFromId(userid, true));
	ereport(LOG,
			(errmsg("guard incident %s", json),
			 errhidestmt(true),
			 errhidecontext(true)));
}

/* guard_incidents_snapshot: every incident, copied out (palloc'd). */
GuardIncidentRow *
guard_incidents_snapshot(int *nrows)
{
	HASH_SEQ_STATUS hs;
	IncidentEntry *e;
	GuardIncidentRow *rows;
	int			n = 0;
	long		max;

	LWLockAcquire(ishared->lock, LW_SHARED);
	max = hash_get_num_entries(incident_hash);
	rows = palloc0(Max(max, 1) * sizeof(GuardIncidentRow));
	hash_seq_init(&hs, incident_hash);
	while (n < max && (e = hash_seq_search(&hs)) != NULL)
	{
		GuardIncidentRow *r = &rows[n++];
		IncidentData d;

		SpinLockAcquire(&e->mutex);
		r->count = e->d.count;
		r->first_seen = e->d.first_seen;
		r->last_seen = e->d.last_seen;
		r->action = (GuardAction) e->d.action;
		r->would_action = (GuardAction) e->d.would_action;
		r->resolved = e->d.resolved;
		SpinLockRelease(&e->mutex);
		d = e->d;				/* the texts never change once written */
		r->incident_id = d.incident_id;
		r->dbid = e->key.dbid;
		r->userid = d.userid;
		r->query_hash = e->key.query_hash;
		r->plan_hash = e->key.plan_hash;
		r->reason = (GuardReason) e->key.reason;
		r->relation_rows = d.relation_rows;
		r->baseline_query_hash = d.baseline_query_hash;
		r->baseline_plan_hash = d.baseline_plan_hash;
		r->relation = d.relation[0] ? pstrdup(d.relation) : NULL;
		r->clause = d.clause[0] ? pstrdup(d.clause) : NULL;
		r->query = pstrdup(d.query);
		r->plan = pstrdup(d.plan);
	}
	if (n == max)
		hash_seq_term(&hs);		/* hash_seq_search never returned NULL */
	LWLockRelease(ishared->lock);
	*nrows = n;
	return rows;
}

static int
cmp_plan_pair(const void *a, const void *b)
{
	const uint64 *x = (const uint64 *) a;
	const uint64 *y = (const uint64 *) b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	if (x[1] != y[1])
		return x[1] < y[1] ? -1 : 1;
	return 0;
}

/*
 * guard_incidents_open_plans: the (query_hash, plan_hash) pairs with an
 * unresolved incident in dbid, sorted, as 2 * n uint64 (palloc'd).
 */
uint64 *
guard_incidents_open_plans(Oid dbid, int *n)
{
	HASH_SEQ_STATUS hs;
	IncidentEntry *e;
	uint64	   *pairs;
	int			count = 0;
	long		max;

	LWLockAcquire(ishared->lock, LW_SHARED);
	max = hash_get_num_entries(incident_hash);
	pairs = palloc(Max(max, 1) * 2 * sizeof(uint64));
	hash_seq_init(&hs, incident_hash);
	while ((e = hash_seq_search(&hs)) != NULL)
	{
		if (e->key.dbid == dbid && !e->d.resolved && count < max)
		{
			pairs[2 * count] = e->key.query_hash;
			pairs[2 * count + 1] = e->key.plan_hash;
			count++;
		}
	}
	LWLockRelease(ishared->lock);
	qsort(pairs, count, 2 * sizeof(uint64), cmp_plan_pair);
	*n = count;
	return pairs;
}

/* Is (query_hash, plan_hash) in a guard_incidents_open_plans() result? */
bool
guard_incidents_pairs_contain(const uint64 *pairs, int n, uint64 query_hash,
							  uint64 plan_hash)
{
	uint64		key[2];

	key[0] = query_hash;
	key[1] = plan_hash;
	return bsearch(key, pairs, n, 2 * sizeof(uint64), cmp_plan_pair) != NULL;
}

/* Mark every incident of a plan resolved. */
static void
resolve(Oid dbid, uint64 query_hash, uint64 plan_hash)
{
	HASH_SEQ_STATUS hs;
	IncidentEntry *e;

	LWLockAcquire(ishared->lock, LW_SHARED);
	hash_seq_init(&hs, incident_hash);
	while ((e = hash_seq_search(&hs)) != NULL)
	{
		if (e->key.dbid == dbid && e->key.query_hash == query_hash &&
			e->key.plan_hash == plan_hash)
		{
			SpinLockAcquire(&e->mutex);
			e->d.resolved = true;
			SpinLockRelease(&e->mutex);
		}
	}
	LWLockRelease(ishared->lock);
}

/*
 * Decisions resolve incidents when their transaction commits: a rolled
 * back guard.approve() resolves nothing.
 */
typedef struct PendingResolve
{
	uint64		query_hash;
	uint64		plan_hash;
	int			nest_level;
} PendingResolve;

static PendingResolve *pending = NULL;
static int	npending = 0;
static int	maxpending = 0;
static bool callbacks_registered = false;

static void
resolve_xact_cb(XactEvent event, void *arg)
{
	int			i;

	if (npending == 0)
		return;
	if (event == XACT_EVENT_COMMIT && ishared != NULL)
	{
		for (i = 0; i < npending; i++)
			resolve(MyDatabaseId, pending[i].query_hash, pending[i].plan_hash);
		npending = 0;
	}
	else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
			 event == XACT_EVENT_PREPARE)
		npending = 0;			/* a prepared decision resolves nothing here */
}

static void
resolve_subxact_cb(SubXactEvent event, SubTransactionId mySubid,
				   SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	if (event == SUBXACT_EVENT_ABORT_SUB)
		while (npending > 0 && pending[npending - 1].nest_level >= level)
			npending--;
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		int			i;

		for (i = 0; i < npending; i++)
			if (pending[i].nest_level >= level)
				pending[i].nest_level = level - 1;
	}
}

void
guard_incidents_resolve_at_commit(uint64 query_hash, uint64 plan_hash)
{
	if (!callbacks_registered)
	{
		RegisterXactCallback(resolve_xact_cb, NULL);
		RegisterSubXactCallback(resolve_subxact_cb, NULL);
		callbacks_registered = true;
	}
	if (npending >= maxpending)
	{
		int			newmax = maxpending ? maxpending * 2 : 8;

		pending = pending ?
			repalloc(pending, newmax * sizeof(PendingResolve)) :
			MemoryContextAlloc(TopMemoryContext, newmax * sizeof(PendingResolve));
		maxpending = newmax;
	}
	pending[npending].query_hash = query_hash;
	pending[npending].plan_hash = plan_hash;
	pending[npending].nest_level = GetCurrentTransactionNestLevel();
	npending++;
}

/*
 * guard.reset(): forget every incident, or those matching userid, dbid and
 * query_hash (0: any).  Ids go on: a forgotten id is never handed out
 * again.  Only the full reset zeroes the counters.
 */
void
guard_incidents_reset_matching(Oid userid, Oid dbid, uint64 query_hash)
{
	HASH_SEQ_STATUS hs;
	IncidentEntry *e;
	bool		all = userid == InvalidOid && dbid == InvalidOid && query_hash == 0;

	LWLockAcquire(ishared->lock, LW_EXCLUSIVE);
	hash_seq_init(&hs, incident_hash);
	while ((e = hash_seq_search(&hs)) != NULL)
	{
		if ((userid != InvalidOid && e->d.userid != userid) ||
			(dbid != InvalidOid && e->key.dbid != dbid) ||
			(query_hash != 0 && e->key.query_hash != query_hash))
			continue;
		hash_search(incident_hash, &e->key, HASH_REMOVE, NULL);
	}
	if (all)
	{
		ishared->evictions = 0;
		ishared->dropped = 0;
		ishared->suppressed = 0;
	}
	LWLockRelease(ishared->lock);
}

/* guard.reset() of extension 0.3: forget every incident. */
void
guard_incidents_reset(void)
{
	guard_incidents_reset_matching(InvalidOid, InvalidOid, 0);
}

void
guard_incidents_info(int64 *count, int64 *max, int64 *evictions)
{
	LWLockAcquire(ishared->lock, LW_SHARED);
	*count = hash_get_num_entries(incident_hash);
	*max = guard_max_incidents;
	*evictions = ishared->evictions;
	LWLockRelease(ishared->lock);
}

void
guard_incidents_counters(GuardIncidentCounters *c)
{
	LWLockAcquire(ishared->lock, LW_SHARED);
	c->dropped = ishared->dropped;
	c->suppressed = ishared->suppressed;
	LWLockRelease(ishared->lock);
}

/* =====================================================================
 * For the notifier
 * =====================================================================
 */

/*
 * guard_incidents_take_pending: copy up to max incidents of dbid awaiting
 * their NOTIFY into notes.  Their flags stay set until the NOTIFY
 * transaction commits (guard_incidents_done_pending): a failure leaves
 * them for the next notifier.
 */
int
guard_incidents_take_pending(Oid dbid, GuardIncidentNote *notes, int max)
{
	HASH_SEQ_STATUS hs;
	IncidentEntry *e;
	int			n = 0;

	LWLockAcquire(ishared->lock, LW_SHARED);
	hash_seq_init(&hs, incident_hash);
	while ((e = hash_seq_search(&hs)) != NULL)
	{
		if (e->key.dbid != dbid || n >= max)
			continue;
		SpinLockAcquire(&e->mutex);
		if (e->d.notify_pending)
		{
			notes[n].dbid = e->key.dbid;
			notes[n].reason = (GuardReason) e->key.reason;
			notes[n].query_hash = e->key.query_hash;
			notes[n].plan_hash = e->key.plan_hash;
			notes[n].incident_id = e->d.incident_id;
			notes[n].action = (GuardAction) e->d.action;
			n++;
		}
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(ishared->lock);
	return n;
}

/* The notes were sent: clear the flags of exactly those incidents. */
void
guard_incidents_done_pending(const GuardIncidentNote *notes, int n)
{
	int			i;

	LWLockAcquire(ishared->lock, LW_SHARED);
	for (i = 0; i < n; i++)
	{
		IncidentKey key;
		IncidentEntry *e;

		memset(&key, 0, sizeof(key));
		key.dbid = notes[i].dbid;
		key.reason = (uint32) notes[i].reason;
		key.query_hash = notes[i].query_hash;
		key.plan_hash = notes[i].plan_hash;
		e = hash_search(incident_hash, &key, HASH_FIND, NULL);
		if (e == NULL)
			continue;
		SpinLockAcquire(&e->mutex);
		if (e->d.incident_id == notes[i].incident_id)
			e->d.notify_pending = false;
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(ishared->lock);
}

/* guard_incidents_save: write the file now (the notifier, after a batch). */
void
guard_incidents_save(void)
{
	(void) incidents_write_file(false);
}

/* =====================================================================
 * The file
 * =====================================================================
 */
typedef struct IncidentsFileHeader
{
	uint32		magic;
	uint32		version;
	uint32		pg_version;
	uint32		pad;
	/* format 1 (extension 0.3) went on with int64 next_id, int64 count */
	uint64		system_identifier;
	int64		next_id;
	int64		id_ceiling;		/* no id at or above it was handed out */
	int64		count;
} IncidentsFileHeader;

/* An incident in the file: fixed part, then its texts (without NULs) */
typedef struct IncidentsFileRecord
{
	IncidentKey key;
	int64		incident_id;
	Oid			userid;
	uint8		action;
	uint8		would_action;
	bool		resolved;
	bool		notify_pending;
	int64		count;
	TimestampTz first_seen;
	TimestampTz last_seen;
	double		relation_rows;
	uint64		baseline_query_hash;
	uint64		baseline_plan_hash;
	uint16		len[4];			/* relation, clause, query, plan */
} IncidentsFileRecord;

/*
 * Serialize entry e into buf (NULL: only measure).  Caller holds the lock.
 * Returns the bytes it takes.
 */
static Size
serialize_entry(IncidentEntry *e, char *buf)
{
	IncidentsFileRecord rec;
	const char *texts[4];
	Size		size = sizeof(rec);
	int			i;

	texts[0] = e->d.relation;
	texts[1] = e->d.clause;
	texts[2] = e->d.query;
	texts[3] = e->d.plan;
	memset(&rec, 0, sizeof(rec));
	for (i = 0; i < 4; i++)
	{
		rec.len[i] = (uint16) strlen(texts[i]);
		size += rec.len[i];
	}
	if (buf == NULL)
		return size;
	rec.key = e->key;
	SpinLockAcquire(&e->mutex);
	rec.incident_id = e->d.incident_id;
	rec.userid = e->d.userid;
	rec.action = e->d.action;
	rec.would_action = e->d.would_action;
	rec.resolved = e->d.resolved;
	rec.notify_pending = e->d.notify_pending;
	rec.count = e->d.count;
	rec.first_seen = e->d.first_seen;
	rec.last_seen = e->d.last_seen;
	SpinLockRelease(&e->mutex);
	rec.relation_rows = e->d.relation_rows;
	rec.baseline_query_hash = e->d.baseline_query_hash;
	rec.baseline_plan_hash = e->d.baseline_plan_hash;
	memcpy(buf, &rec, sizeof(rec));
	buf += sizeof(rec);
	for (i = 0; i < 4; i++)
	{
		memcpy(buf, texts[i], rec.len[i]);
		buf += rec.len[i];
	}
	return size;
}

/*
 * Write the file from a copy taken under the lock (no I/O under it), under
 * the file lock (writers in turn: the copy renamed last is the newest).
 * clean: the postmaster at shutdown, nothing runs any more; the ceiling is
 * then the next id itself.  Returns true if the file was written; a
 * failure is logged, never raised.
 */
static bool
incidents_write_file(bool clean)
{
	IncidentsFileHeader hdr;
	HASH_SEQ_STATUS hs;
	IncidentEntry *e;
	char		tmp[MAXPGPATH];
	char	   *buf;
	Size		size = 0;
	Size		off = 0;
	FILE	   *file;
	int64		n = 0;
	uint32		trailer = INCIDENTS_FILE_MAGIC;
	bool		ok = false;
	bool		keep = guard_save || !clean;

	LWLockAcquire(ishared->file_lock, LW_EXCLUSIVE);
	LWLockAcquire(ishared->lock, LW_SHARED);
	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = INCIDENTS_FILE_MAGIC;
	hdr.version = INCIDENTS_FILE_VERSION;
	hdr.pg_version = PG_VERSION_NUM / 100;
	hdr.system_identifier = ishared->system_identifier;
	hdr.next_id = ishared->next_id;
	hdr.id_ceiling = clean ? ishared->next_id : Max(ishared->reserved, ishared->next_id);
	/* the texts are fixed once written: measure, then copy */
	if (keep)
	{
		hash_seq_init(&hs, incident_hash);
		while ((e = hash_seq_search(&hs)) != NULL)
			size += serialize_entry(e, NULL);
	}
	buf = palloc_extended(Max(size, 1), MCXT_ALLOC_NO_OOM);
	if (buf == NULL)
	{
		LWLockRelease(ishared->lock);
		LWLockRelease(ishared->file_lock);
		ereport(LOG,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not save the incidents to \"%s\".", INCIDENTS_FILE)));
		return false;
	}
	if (keep)
	{
		hash_seq_init(&hs, incident_hash);
		while ((e = hash_seq_search(&hs)) != NULL)
		{
			off += serialize_entry(e, buf + off);
			n++;
		}
	}
	LWLockRelease(ishared->lock);
	hdr.count = n;
	Assert(off == size);

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", INCIDENTS_FILE, MyProcPid);
	file = AllocateFile(tmp, PG_BINARY_W);
	if (file == NULL ||
		fwrite(&hdr, sizeof(hdr), 1, file) != 1 ||
		(off > 0 && fwrite(buf, off, 1, file) != 1) ||
		fwrite(&trailer, sizeof(trailer), 1, file) != 1)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", tmp)));
		if (file)
			FreeFile(file);
		unlink(tmp);
	}
	else if (FreeFile(file) != 0)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", tmp)));
		unlink(tmp);
	}
	else
		ok = durable_rename(tmp, INCIDENTS_FILE, LOG) == 0;
	pfree(buf);
	if (ok)
	{
		LWLockAcquire(ishared->lock, LW_EXCLUSIVE);
		if (hdr.id_ceiling > ishared->saved_ceiling)
			ishared->saved_ceiling = hdr.id_ceiling;
		LWLockRelease(ishared->lock);
	}
	LWLockRelease(ishared->file_lock);
	return ok;
}

/*
 * At clean postmaster shutdown (no backend is left).  With guard.save off
 * the file keeps only its header: the incidents go, the id ceiling stays.
 */
static void
incidents_shutdown(int code, Datum arg)
{
	if (code != 0 || ishared == NULL || incident_hash == NULL)
		return;
	(void) incidents_write_file(true);
}

/* Forget every incident (loading failed half-way).  Postmaster only. */
static void
forget_all(void)
{
	HASH_SEQ_STATUS hs;
	IncidentEntry *e;

	hash_seq_init(&hs, incident_hash);
	while ((e = hash_seq_search(&hs)) != NULL)
		hash_search(incident_hash, &e->key, HASH_REMOVE, NULL);
}

/*
 * A server restored from a base backup: ids in an epoch of its own, and
 * the file says so at once (a crash before its first incident must not
 * bring it back to the epoch it copied).  Postmaster only.
 */
static void
new_epoch(void)
{
	uint32		r = 0;
	int64		epoch;

	if (!pg_strong_random(&r, sizeof(r)))
		r = (uint32) (GetCurrentTimestamp() ^ MyProcPid);
	epoch = (int64) (r % EPOCH_MAX) + 1;
	ishared->next_id = (epoch << EPOCH_SHIFT) + 1;
	ishared->reserved = ishared->next_id + GUARD_INCIDENT_ID_BLOCK;
	ishared->saved_ceiling = ishared->next_id;
	(void) incidents_write_file(false);
}

/*
 * Read a file of format 1 (extension 0.3), whose header and records are
 * the first 16 bytes of IncidentsFileHeader then int64 next_id and int64
 * count, and (IncidentKey, IncidentData) records.  It records no ceiling:
 * numbering goes on from its next id.  Postmaster only; closes file.
 */
static void
load_v1(FILE *file)
{
	int64		v1[2];			/* next_id, count */
	int64		i;
	int64		max_id = 0;
	IncidentKey key;
	IncidentData d;
	uint32		trailer;

	if (fread(v1, sizeof(v1), 1, file) != 1 || v1[0] < 1 || v1[1] < 0)
		goto bad;
	for (i = 0; i < v1[1]; i++)
	{
		IncidentEntry *e;

		if (fread(&key, sizeof(key), 1, file) != 1 ||
			fread(&d, sizeof(d), 1, file) != 1)
			goto bad;
		if (key.reason > GUARD_REASON_ANDOR_PRECEDENCE ||
			d.action > GUARD_ACTION_BLOCKED || d.would_action > GUARD_ACTION_BLOCKED ||
			d.incident_id < 1)
			goto bad;
		d.relation[INCIDENT_RELATION - 1] = '\0';
		d.clause[INCIDENT_CLAUSE - 1] = '\0';
		d.query[INCIDENT_TEXT - 1] = '\0';
		d.plan[INCIDENT_TEXT - 1] = '\0';
		max_id = Max(max_id, d.incident_id);
		e = insert_raw(&key);
		if (e != NULL)
			e->d = d;
	}
	if (fread(&trailer, sizeof(trailer), 1, file) != 1 || trailer != INCIDENTS_FILE_MAGIC)
		goto bad;
	FreeFile(file);
	ishared->next_id = Max(v1[0], max_id + 1);
	ishared->reserved = ishared->next_id;
	return;

bad:
	ereport(LOG,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("ignoring damaged file \"%s\"", INCIDENTS_FILE)));
	FreeFile(file);
	forget_all();
	new_epoch();
}

/*
 * Read the file at start-up (postmaster, before any backend exists).
 * Unlike observed plans, incidents are read after a crash too.  A damaged
 * or foreign file is ignored with a LOG.  restored: this server was
 * restored from a base backup, and the file, if any, is its origin's.
 */
static void
incidents_load_file(bool restored)
{
	FILE	   *file;
	IncidentsFileHeader hdr;
	IncidentsFileRecord rec;
	uint32		trailer;
	int64		i;
	int64		max_id = 0;
	bool		header_read = false;

	file = AllocateFile(INCIDENTS_FILE, PG_BINARY_R);
	if (file == NULL)
	{
		if (errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", INCIDENTS_FILE)));
		if (restored)
			new_epoch();
		return;
	}
	if (restored)
	{
		ereport(LOG,
				(errmsg("ignoring file \"%s\" copied by the base backup this server was restored from",
						INCIDENTS_FILE),
				 errdetail("Its incidents are the origin server's; this server numbers its own incidents apart.")));
		FreeFile(file);
		new_epoch();
		return;
	}
	if (fread(&hdr, offsetof(IncidentsFileHeader, system_identifier), 1, file) != 1)
		goto bad;
	if (hdr.magic == INCIDENTS_FILE_MAGIC && hdr.version == 1 &&
		hdr.pg_version == PG_VERSION_NUM / 100)
	{
		load_v1(file);
		return;
	}
	if (hdr.magic != INCIDENTS_FILE_MAGIC || hdr.version != INCIDENTS_FILE_VERSION ||
		hdr.pg_version != PG_VERSION_NUM / 100)
	{
		ereport(LOG,
				(errmsg("ignoring file \"%s\" written by another version of guard or PostgreSQL",
						INCIDENTS_FILE)));
		FreeFile(file);
		return;
	}
	if (fread(&hdr.system_identifier,
			  sizeof(hdr) - offsetof(IncidentsFileHeader, system_identifier), 1, file) != 1)
		goto bad;
	header_read = true;
	if (hdr.system_identifier != ishared->system_identifier)
	{
		ereport(LOG,
				(errmsg("ignoring file \"%s\" written by another database system",
						INCIDENTS_FILE),
				 errdetail("The file's database system identifier is " UINT64_FORMAT ", the server's is " UINT64_FORMAT ".",
						   hdr.system_identifier, ishared->system_identifier)));
		FreeFile(file);
		return;
	}
	if (hdr.count < 0 || hdr.next_id < 1 || hdr.id_ceiling < hdr.next_id)
		goto bad;
	for (i = 0; i < hdr.count; i++)
	{
		IncidentEntry *e;
		IncidentData d;
		char	   *texts[4];
		int			sizes[4] = {INCIDENT_RELATION, INCIDENT_CLAUSE, INCIDENT_TEXT, INCIDENT_TEXT};
		int			k;

		if (fread(&rec, sizeof(rec), 1, file) != 1)
			goto bad;
		if (rec.key.reason > GUARD_REASON_ANDOR_PRECEDENCE ||
			rec.action > GUARD_ACTION_BLOCKED ||
			rec.would_action > GUARD_ACTION_BLOCKED ||
			rec.incident_id < 1 || rec.incident_id >= hdr.id_ceiling)
			goto bad;
		memset(&d, 0, sizeof(d));
		texts[0] = d.relation;
		texts[1] = d.clause;
		texts[2] = d.query;
		texts[3] = d.plan;
		for (k = 0; k < 4; k++)
		{
			if (rec.len[k] >= sizes[k] ||
				(rec.len[k] > 0 && fread(texts[k], rec.len[k], 1, file) != 1))
				goto bad;
			texts[k][rec.len[k]] = '\0';
		}
		d.incident_id = rec.incident_id;
		d.userid = rec.userid;
		d.action = rec.action;
		d.would_action = rec.would_action;
		d.resolved = rec.resolved;
		d.notify_pending = rec.notify_pending;
		d.count = rec.count;
		d.first_seen = rec.first_seen;
		d.last_seen = rec.last_seen;
		d.relation_rows = rec.relation_rows;
		d.baseline_query_hash = rec.baseline_query_hash;
		d.baseline_plan_hash = rec.baseline_plan_hash;
		max_id = Max(max_id, d.incident_id);
		/* the file may hold more than guard.max_incidents allows now */
		e = insert_raw(&rec.key);
		if (e != NULL)
			e->d = d;
	}
	if (fread(&trailer, sizeof(trailer), 1, file) != 1 || trailer != INCIDENTS_FILE_MAGIC)
		goto bad;
	FreeFile(file);
	/* after a crash, numbering goes on above anything handed out */
	ishared->next_id = Max(hdr.id_ceiling, max_id + 1);
	ishared->reserved = ishared->next_id;
	ishared->saved_ceiling = hdr.id_ceiling;
	return;

bad:
	ereport(LOG,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("ignoring damaged file \"%s\"", INCIDENTS_FILE)));
	FreeFile(file);
	forget_all();
	/* ids must not start over: keep a plausible ceiling, else a new epoch */
	if (header_read && hdr.id_ceiling >= 1 && hdr.id_ceiling < (INT64CONST(1) << 62))
	{
		ishared->next_id = Max(hdr.id_ceiling, max_id + 1);
		ishared->reserved = ishared->next_id;
		ishared->saved_ceiling = hdr.id_ceiling;
	}
	else
		new_epoch();
}
