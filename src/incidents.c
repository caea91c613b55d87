/*-------------------------------------------------------------------------
 *
 * incidents.c
 *		guard.incidents: what guard caught, deduplicated, in shared memory;
 *		the alert (one LOG line, a NOTIFY) for each new one.
 *
 * An incident is keyed by (database, reason, query_hash, plan_hash) and
 * counts its occurrences between first_seen and last_seen.  Incidents live
 * in shared memory, not in a table: they must survive the rollback of the
 * statement guard blocked, and they must work on a hot standby.  The table
 * holds guard.max_incidents entries; when it is full the oldest resolved
 * incident (approving or rejecting the plan resolves it) is evicted, else
 * the oldest one, and the eviction is counted.  The texts of an entry are
 * fixed-size and clipped: an incident is read by a person, and its plan and
 * query are also in guard.plans.
 *
 * Alerting.  A new incident (or one reopened, or escalated to a more
 * severe action) writes one LOG line whose
 * message is a JSON object, and is marked for notification.  The NOTIFY on
 * channel guard_incident cannot come from the statement's own transaction,
 * which a block rolls back; a "guard notifier" background worker, started
 * on demand for the incident's database (NOTIFY is per database), sends
 * the pending notifications in a transaction of its own, writes the
 * incidents file, and exits after half a second without work (it holds a
 * connection to the database meanwhile: a DROP DATABASE waits for it).  On a standby
 * (no NOTIFY during recovery) it only writes the file.
 *
 * Persistence.  pg_stat/guard_incidents.stat is written by the notifier
 * after each batch and by the postmaster at clean shutdown, and read at
 * every start, crash restarts included: the incident that melted the
 * server must still be there afterwards.  Format: doc/file-formats.md.
 *
 * Locking: incidents->lock (LWLock) guards the table and the notifier
 * slots; an entry's counters are updated under LW_SHARED plus the entry's
 * spinlock.  Nothing under either can ERROR.
 *
 * IDENTIFICATION
 *		src/incidents.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <unistd.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/async.h"
#include "commands/dbcommands.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "guard.h"
#include "incidents.h"
#include "baseline.h"
#include "store.h"

#define INCIDENTS_FILE			PGSTAT_STAT_PERMANENT_DIRECTORY "/guard_incidents.stat"
#define INCIDENTS_FILE_MAGIC	0x47444931	/* "GDI1" */
#define INCIDENTS_FILE_VERSION	1
#define INCIDENT_TEXT			2048	/* query and plan, clipped */
#define INCIDENT_CLAUSE			512
#define INCIDENT_RELATION		(2 * NAMEDATALEN + 8)
#define NOTIFIERS				4		/* databases notified at once */
#define NOTIFY_CHANNEL			"guard_incident"
#define NOTIFY_QUERY_MAX		1000	/* query text in a payload */
#define NOTIFY_BATCH			64		/* notifications per transaction */

typedef struct IncidentKey
{
	Oid			dbid;
	uint32		reason;
	uint64		query_hash;
	uint64		plan_hash;
} IncidentKey;

/* One incident; saved to the file as it is (minus the spinlock) */
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

typedef struct IncidentsShared
{
	LWLock	   *lock;
	int64		next_id;
	int64		evictions;
	int64		notify_failures;	/* could not start a notifier */
	Oid			notifier_db[NOTIFIERS];	/* databases with a notifier */
	pid_t		notifier_pid[NOTIFIERS];	/* 0 until the worker runs */
	TimestampTz notifier_claimed[NOTIFIERS];	/* when the slot was claimed */
} IncidentsShared;

static IncidentsShared *ishared = NULL;
static HTAB *incident_hash = NULL;

static void incidents_shutdown(int code, Datum arg);
static void incidents_load_file(void);
static void incidents_write_file(void);

Size
guard_incidents_size(void)
{
	return add_size(MAXALIGN(sizeof(IncidentsShared)),
					hash_estimate_size(guard_max_incidents, sizeof(IncidentEntry)));
}

void
guard_incidents_request(void)
{
	RequestAddinShmemSpace(guard_incidents_size());
	RequestNamedLWLockTranche("guard incidents", 1);
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
		memset(ishared, 0, sizeof(*ishared));
		ishared->lock = &(GetNamedLWLockTranche("guard incidents"))->lock;
		ishared->next_id = 1;
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(IncidentKey);
	info.entrysize = sizeof(IncidentEntry);
	incident_hash = ShmemInitHash("guard incidents hash", guard_max_incidents,
								  guard_max_incidents, &info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);

	if (!IsUnderPostmaster)
	{
		on_shmem_exit(incidents_shutdown, (Datum) 0);
		if (!found)
			incidents_load_file();
	}
}

/* Release the lock if this backend holds it (fail-open path). */
void
guard_incidents_release_locks(void)
{
	if (ishared != NULL && LWLockHeldByMe(ishared->lock))
	{
		HOLD_INTERRUPTS();		/* see guard_store_release_locks */
		LWLockRelease(ishared->lock);
	}
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
 * Bump an existing entry.  Caller holds the lock (any mode).  Returns true
 * if the occurrence is news: the incident was resolved and is back, or
 * guard now acts more severely (logged -> blocked when block mode is
 * switched on): the alert goes out again.
 */
static bool
bump(IncidentEntry *e, const GuardOccurrence *occ, TimestampTz now)
{
	bool		news;

	SpinLockAcquire(&e->mutex);
	e->d.count++;
	e->d.last_seen = now;
	news = e->d.resolved || (uint8) occ->action > e->d.action;
	e->d.action = (uint8) occ->action;
	e->d.would_action = (uint8) occ->would_action;
	e->d.resolved = false;
	if (news)
		e->d.notify_pending = true;
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
		{
			e->d.count++;
			e->d.last_seen = now;
			e->d.action = (uint8) occ->action;
			e->d.would_action = (uint8) occ->would_action;
		}
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(ishared->lock);
	return known;
}

/* Make room for one entry: evict the oldest resolved, else the oldest. */
static void
evict_one(void)
{
	HASH_SEQ_STATUS hs;
	IncidentEntry *e;
	IncidentEntry *victim = NULL;

	hash_seq_init(&hs, incident_hash);
	while ((e = hash_seq_search(&hs)) != NULL)
	{
		if (victim == NULL ||
			(e->d.resolved && !victim->d.resolved) ||
			(e->d.resolved == victim->d.resolved && e->d.last_seen < victim->d.last_seen))
			victim = e;
	}
	if (victim != NULL)
	{
		hash_search(incident_hash, &victim->key, HASH_REMOVE, NULL);
		ishared->evictions++;
	}
}

/*
 * Insert or bump an incident.  Caller holds the lock exclusively.  Returns
 * the entry (never NULL: the table always makes room) and whether it is new
 * or reopened.
 */
static IncidentEntry *
insert_locked(const IncidentKey *key, bool *fresh)
{
	IncidentEntry *e;
	bool		found;

	e = hash_search(incident_hash, key, HASH_FIND, NULL);
	if (e != NULL)
	{
		*fresh = false;
		return e;
	}
	if (hash_get_num_entries(incident_hash) >= guard_max_incidents)
		evict_one();
	e = hash_search(incident_hash, key, HASH_ENTER_NULL, &found);
	if (e == NULL)
	{
		/* shared hash out of room despite the eviction: evict again */
		evict_one();
		e = hash_search(incident_hash, key, HASH_ENTER_NULL, &found);
		if (e == NULL)
			return NULL;
	}
	SpinLockInit(&e->mutex);
	memset(&e->d, 0, sizeof(e->d));
	*fresh = true;
	return e;
}

/* JSON object describing an incident (LOG line and NOTIFY payload). */
static char *
incident_json(const IncidentKey *key, const IncidentData *d, const char *dbname,
			  const char *rolename, int query_max)
{
	StringInfoData buf;
	char		query[NOTIFY_QUERY_MAX + 1];

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
	if (query_max > 0)
	{
		copy_clipped(query, d->query, Min(query_max, NOTIFY_QUERY_MAX) + 1);
		appendStringInfoString(&buf, ", \"query\": ");
		escape_json(&buf, query);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * Make sure a notifier runs for dbid.  Caller holds the lock exclusively;
 * returns true if the caller must start one (a slot was claimed for it).
 */
/*
 * Is the notifier of slot i gone without giving its slot back?  Its start
 * failed (fork, no worker slot: the postmaster forgets a never-restart
 * worker) or it died without running its exit callback.  Caller holds the
 * lock exclusively.
 */
static bool
notifier_lost(int i, TimestampTz now)
{
	if (ishared->notifier_pid[i] == 0)
		return now - ishared->notifier_claimed[i] > 10 * USECS_PER_SEC;
	return kill(ishared->notifier_pid[i], 0) != 0 && errno == ESRCH;
}

static bool
claim_notifier(Oid dbid)
{
	int			i;
	int			free_slot = -1;
	TimestampTz now = GetCurrentTimestamp();

	for (i = 0; i < NOTIFIERS; i++)
	{
		if (ishared->notifier_db[i] != InvalidOid && notifier_lost(i, now))
			ishared->notifier_db[i] = InvalidOid;
		if (ishared->notifier_db[i] == dbid)
			return false;
		if (ishared->notifier_db[i] == InvalidOid && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return false;			/* all busy: the notification waits */
	ishared->notifier_db[free_slot] = dbid;
	ishared->notifier_pid[free_slot] = 0;
	ishared->notifier_claimed[free_slot] = now;
	return true;
}

static void
unclaim_notifier(Oid dbid)
{
	int			i;

	for (i = 0; i < NOTIFIERS; i++)
		if (ishared->notifier_db[i] == dbid)
		{
			ishared->notifier_db[i] = InvalidOid;
			ishared->notifier_pid[i] = 0;
		}
}

/* Start a notifier for dbid (slot already claimed). */
static void
start_notifier(Oid dbid)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "guard");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "guard_notifier_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "guard notifier for database %u", dbid);
	snprintf(worker.bgw_type, BGW_MAXLEN, "guard notifier");
	worker.bgw_main_arg = ObjectIdGetDatum(dbid);
	worker.bgw_notify_pid = 0;
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		LWLockAcquire(ishared->lock, LW_EXCLUSIVE);
		unclaim_notifier(dbid);
		ishared->notify_failures++;
		LWLockRelease(ishared->lock);
		ereport(LOG,
				(errmsg("guard could not start its notifier: no background worker slot"),
				 errhint("Raise max_worker_processes; the notification is sent with the database's next incident.")));
	}
}

/*
 * guard_incident_record: record an occurrence that guard_incident_seen
 * did not count.  A new or reopened incident writes the LOG line and is
 * queued for notification.
 */
void
guard_incident_record(Oid dbid, Oid userid, const GuardOccurrence *occ,
					  TimestampTz now)
{
	IncidentKey key;
	IncidentEntry *e;
	IncidentData copy;
	bool		fresh = false;
	bool		reopened = false;
	bool		start = false;
	char	   *json;

	make_key(&key, dbid, occ);
	LWLockAcquire(ishared->lock, LW_EXCLUSIVE);
	e = insert_locked(&key, &fresh);
	if (e == NULL)
	{
		LWLockRelease(ishared->lock);
		return;
	}
	if (fresh)
	{
		IncidentData *d = &e->d;

		d->incident_id = ishared->next_id++;
		d->userid = userid;
		d->action = (uint8) occ->action;
		d->would_action = (uint8) occ->would_action;
		d->count = 1;
		d->first_seen = d->last_seen = now;
		d->relation_rows = occ->relation ? occ->relation_rows : 0;
		d->baseline_query_hash = occ->baseline_query_hash;
		d->baseline_plan_hash = occ->baseline_plan_hash;
		copy_clipped(d->relation, occ->relation, INCIDENT_RELATION);
		copy_clipped(d->clause, occ->clause, INCIDENT_CLAUSE);
		copy_clipped(d->query, occ->query, INCIDENT_TEXT);
		copy_clipped(d->plan, occ->plan, INCIDENT_TEXT);
		d->notify_pending = true;
	}
	else
		reopened = bump(e, occ, now);
	if (fresh || reopened)
		start = claim_notifier(dbid);
	copy = e->d;
	LWLockRelease(ishared->lock);

	/* first, before anything that can fail: a claimed slot needs its worker */
	if (start)
		start_notifier(dbid);
	if (!fresh && !reopened)
		return;					/* raced with another backend: counted */

	json = incident_json(&key, &copy, get_database_name(dbid),
						 GetUserNameFromId(userid, true), 0);
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
		r->first_seen = d.first_seen;
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

/* guard.reset(): forget every incident. */
void
guard_incidents_reset(void)
{
	HASH_SEQ_STATUS hs;
	IncidentEntry *e;

	LWLockAcquire(ishared->lock, LW_EXCLUSIVE);
	hash_seq_init(&hs, incident_hash);
	while ((e = hash_seq_search(&hs)) != NULL)
		hash_search(incident_hash, &e->key, HASH_REMOVE, NULL);
	ishared->evictions = 0;
	LWLockRelease(ishared->lock);
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
	int64		next_id;
	int64		count;
} IncidentsFileHeader;

typedef struct IncidentsFileRecord
{
	IncidentKey key;
	IncidentData d;
} IncidentsFileRecord;

/*
 * Write the file from a copy taken under the lock (no I/O under it).  Each
 * writer uses a temporary file of its own; the rename is atomic.
 */
static void
incidents_write_file(void)
{
	IncidentsFileHeader hdr;
	IncidentsFileRecord *recs;
	HASH_SEQ_STATUS hs;
	IncidentEntry *e;
	char		tmp[MAXPGPATH];
	FILE	   *file;
	int64		n = 0;
	long		max;
	uint32		trailer = INCIDENTS_FILE_MAGIC;

	LWLockAcquire(ishared->lock, LW_SHARED);
	max = hash_get_num_entries(incident_hash);
	recs = palloc_extended(Max(max, 1) * sizeof(IncidentsFileRecord), MCXT_ALLOC_NO_OOM);
	if (recs == NULL)
	{
		LWLockRelease(ishared->lock);
		return;
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = INCIDENTS_FILE_MAGIC;
	hdr.version = INCIDENTS_FILE_VERSION;
	hdr.pg_version = PG_VERSION_NUM / 100;
	hdr.next_id = ishared->next_id;
	hash_seq_init(&hs, incident_hash);
	while (n < max && (e = hash_seq_search(&hs)) != NULL)
	{
		memset(&recs[n], 0, sizeof(IncidentsFileRecord));
		recs[n].key = e->key;
		SpinLockAcquire(&e->mutex);
		recs[n].d = e->d;
		SpinLockRelease(&e->mutex);
		n++;
	}
	if (n == max)
		hash_seq_term(&hs);		/* hash_seq_search never returned NULL */
	LWLockRelease(ishared->lock);
	hdr.count = n;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", INCIDENTS_FILE, MyProcPid);
	file = AllocateFile(tmp, PG_BINARY_W);
	if (file == NULL ||
		fwrite(&hdr, sizeof(hdr), 1, file) != 1 ||
		(n > 0 && fwrite(recs, sizeof(IncidentsFileRecord), n, file) != (size_t) n) ||
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
		(void) durable_rename(tmp, INCIDENTS_FILE, LOG);
	pfree(recs);
}

/* At clean postmaster shutdown (no backend is left). */
static void
incidents_shutdown(int code, Datum arg)
{
	if (code != 0 || ishared == NULL || incident_hash == NULL)
		return;
	if (!guard_save)
	{
		unlink(INCIDENTS_FILE);
		return;
	}
	incidents_write_file();
}

/*
 * Read the file at start-up.  Unlike observed plans, incidents are read
 * after a crash too.  A damaged or foreign file is ignored with a LOG.
 */
static void
incidents_load_file(void)
{
	FILE	   *file;
	IncidentsFileHeader hdr;
	IncidentsFileRecord rec;
	uint32		trailer;
	int64		i;

	file = AllocateFile(INCIDENTS_FILE, PG_BINARY_R);
	if (file == NULL)
	{
		if (errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", INCIDENTS_FILE)));
		return;
	}
	if (fread(&hdr, sizeof(hdr), 1, file) != 1)
		goto bad;
	if (hdr.magic != INCIDENTS_FILE_MAGIC || hdr.version != INCIDENTS_FILE_VERSION ||
		hdr.pg_version != PG_VERSION_NUM / 100)
	{
		ereport(LOG,
				(errmsg("ignoring file \"%s\" written by another version of guard or PostgreSQL",
						INCIDENTS_FILE)));
		FreeFile(file);
		return;
	}
	if (hdr.count < 0 || hdr.next_id < 1)
		goto bad;
	for (i = 0; i < hdr.count; i++)
	{
		IncidentEntry *e;
		bool		fresh;

		if (fread(&rec, sizeof(rec), 1, file) != 1)
			goto bad;
		if (rec.key.reason > GUARD_REASON_ANDOR_PRECEDENCE ||
			rec.d.action > GUARD_ACTION_BLOCKED ||
			rec.d.would_action > GUARD_ACTION_BLOCKED)
			goto bad;
		rec.d.relation[INCIDENT_RELATION - 1] = '\0';
		rec.d.clause[INCIDENT_CLAUSE - 1] = '\0';
		rec.d.query[INCIDENT_TEXT - 1] = '\0';
		rec.d.plan[INCIDENT_TEXT - 1] = '\0';
		e = insert_locked(&rec.key, &fresh);
		if (e == NULL)
			continue;
		e->d = rec.d;
	}
	if (fread(&trailer, sizeof(trailer), 1, file) != 1 || trailer != INCIDENTS_FILE_MAGIC)
		goto bad;
	ishared->next_id = hdr.next_id;
	FreeFile(file);
	return;

bad:
	ereport(LOG,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("ignoring damaged file \"%s\"", INCIDENTS_FILE)));
	FreeFile(file);
	guard_incidents_reset();
}

/* =====================================================================
 * The notifier
 * =====================================================================
 */
static Oid	notifier_dbid = InvalidOid;
static volatile sig_atomic_t got_sigterm = false;
static volatile sig_atomic_t in_xact = false;

/*
 * SIGTERM (shutdown, DROP DATABASE ... FORCE): leave quietly at the next
 * turn of the loop, or at once through die() inside a transaction.
 */
static void
notifier_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	if (in_xact)
		die(postgres_signal_arg);
	SetLatch(MyLatch);
	errno = save_errno;
}

static void
notifier_exit(int code, Datum arg)
{
	if (ishared == NULL)
		return;
	/* an error outside a transaction leaves LWLocks held in a worker */
	LWLockReleaseAll();
	LWLockAcquire(ishared->lock, LW_EXCLUSIVE);
	unclaim_notifier(notifier_dbid);
	LWLockRelease(ishared->lock);
}

/* Say in shared memory that this notifier runs (claim_notifier checks). */
static void
notifier_register_pid(void)
{
	int			i;

	LWLockAcquire(ishared->lock, LW_EXCLUSIVE);
	for (i = 0; i < NOTIFIERS; i++)
		if (ishared->notifier_db[i] == notifier_dbid)
			ishared->notifier_pid[i] = MyProcPid;
	LWLockRelease(ishared->lock);
}

/*
 * Copy up to max pending notifications of this database into recs (which
 * the caller allocated: nothing is allocated under the lock).  Their flags
 * stay set until the NOTIFY transaction commits (done_pending): a failure
 * leaves them for the next notifier.  If there are none and give_up, the
 * slot is given up in the same critical section, so that a backend adding
 * an incident either sees this notifier running or starts another.
 */
static int
take_pending(IncidentsFileRecord *recs, int max, bool give_up)
{
	HASH_SEQ_STATUS hs;
	IncidentEntry *e;
	int			n = 0;

	LWLockAcquire(ishared->lock, LW_EXCLUSIVE);
	hash_seq_init(&hs, incident_hash);
	while ((e = hash_seq_search(&hs)) != NULL)
	{
		if (e->key.dbid != notifier_dbid || !e->d.notify_pending || n >= max)
			continue;
		recs[n].key = e->key;
		SpinLockAcquire(&e->mutex);
		recs[n].d = e->d;
		SpinLockRelease(&e->mutex);
		n++;
	}
	if (n == 0 && give_up)
	{
		unclaim_notifier(notifier_dbid);
		notifier_dbid = InvalidOid;		/* notifier_exit: nothing left */
	}
	LWLockRelease(ishared->lock);
	return n;
}

/* The batch was sent: clear the flags of exactly those incidents. */
static void
done_pending(const IncidentsFileRecord *recs, int n)
{
	int			i;

	LWLockAcquire(ishared->lock, LW_SHARED);
	for (i = 0; i < n; i++)
	{
		IncidentEntry *e = hash_search(incident_hash, &recs[i].key, HASH_FIND, NULL);

		if (e == NULL)
			continue;
		SpinLockAcquire(&e->mutex);
		if (e->d.incident_id == recs[i].d.incident_id)
			e->d.notify_pending = false;
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(ishared->lock);
}

/* A NOTIFY payload must stay under 8000 bytes, escaped. */
static char *
notify_payload(const IncidentsFileRecord *rec, const char *dbname)
{
	const char *role = GetUserNameFromId(rec->d.userid, true);
	char	   *json = incident_json(&rec->key, &rec->d, dbname, role, NOTIFY_QUERY_MAX);

	if (strlen(json) >= NAMEDATALEN * 100)	/* 6400: room to spare */
		json = incident_json(&rec->key, &rec->d, dbname, role, 0);
	return json;
}

static int
cmp_incident_id(const void *a, const void *b)
{
	int64		x = ((const IncidentsFileRecord *) a)->d.incident_id;
	int64		y = ((const IncidentsFileRecord *) b)->d.incident_id;

	return x < y ? -1 : (x > y ? 1 : 0);
}

void
guard_notifier_main(Datum arg)
{
	int			idle = 0;
	IncidentsFileRecord *recs;

	notifier_dbid = DatumGetObjectId(arg);
	pqsignal(SIGTERM, notifier_sigterm);
	BackgroundWorkerUnblockSignals();
	before_shmem_exit(notifier_exit, (Datum) 0);
	if (ishared == NULL)
		proc_exit(0);
	BackgroundWorkerInitializeConnectionByOid(notifier_dbid, InvalidOid, 0);
	pgstat_report_appname("guard notifier");
	notifier_register_pid();
	recs = palloc(NOTIFY_BATCH * sizeof(IncidentsFileRecord));

	for (;;)
	{
		int			n;
		int			i;

		CHECK_FOR_INTERRUPTS();
		if (got_sigterm)
			break;				/* what is pending waits for the next notifier */
		n = take_pending(recs, NOTIFY_BATCH, idle >= 5);
		if (n == 0 && !OidIsValid(notifier_dbid))
			break;
		if (n > 0)
		{
			qsort(recs, n, sizeof(IncidentsFileRecord), cmp_incident_id);
			SetCurrentStatementStartTimestamp();
			in_xact = true;
			if (got_sigterm)
				die(SIGTERM);
			StartTransactionCommand();
			if (!RecoveryInProgress())
			{
				char	   *dbname = get_database_name(notifier_dbid);

				for (i = 0; i < n; i++)
					Async_Notify(NOTIFY_CHANNEL, notify_payload(&recs[i], dbname));
			}
			CommitTransactionCommand();
			in_xact = false;
			done_pending(recs, n);
			incidents_write_file();
			idle = 0;
		}
		else
			idle++;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	proc_exit(0);
}
