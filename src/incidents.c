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
 * Persistence: three files in pg_stat/ (doc/file-formats.md), read at
 * every start, crash restarts included: the incident that melted the server
 * must still be there afterwards.
 *  - guard_incidents.stat, the full table, written (temporary file, durable
 *    rename) by the notifier when it has sent a batch and is idle, at most
 *    every NOTIFIER_SAVE_INTERVAL while busy, and by the postmaster at clean
 *    shutdown.  It says which journal generation it covers.
 *  - guard_incidents.journal.<generation>: append-only.  The backend that
 *    raises an alert appends ONE record (the incident, CRC-checked) with a
 *    single write() in O_APPEND mode, fdatasyncs it and only then writes the
 *    LOG line: an incident that was logged survives any crash, and the cost
 *    per alert is one record, not the table.  A full save first opens the
 *    next generation (new appends go there), snapshots the table, and once
 *    its file is durable removes the journals it covers.  At start the
 *    journals newer than the full file are replayed over it; a torn or
 *    damaged record is skipped with a LOG line.
 *  - guard_incidents.ids, the id ceiling: no id at or above it was ever
 *    handed out.  The backend whose incident brings the next id within
 *    GUARD_INCIDENT_ID_BLOCK / 2 of the ceiling writes a ceiling one block
 *    further; ids are never handed out at or above the ceiling on disk (an
 *    incident that finds none left is dropped and counted), so after a
 *    crash numbering goes on from the ceiling and no id is reused.
 * A server restored from a base backup (backup_label present at start)
 * ignores the files it copied and numbers its own incidents in a fresh
 * random epoch (id = epoch << 40 | sequence), so that a standby's ids never
 * collide with its primary's.
 *
 * Locking: incidents->lock (LWLock) guards the table, the id counters, the
 * journal generation and the alert rates; an entry's counters are updated
 * under LW_SHARED plus the entry's spinlock (the texts and the rest of an
 * entry are written only at insertion, under LW_EXCLUSIVE, so that readers
 * holding the lock in any mode may read them without the spinlock).
 * Nothing under the spinlock can ERROR.  No file is touched while holding
 * any of them: the lock is held only to copy, and the I/O follows.  Writers
 * of the ids file take the atomic flag ids_busy (one at a time, so that a
 * ceiling only grows; the others go on with the ids left below the ceiling
 * on disk, or wait for the writer on ids_cv, interruptibly and for at most
 * a second); writers of the full file take save_busy (one at a time, so
 * that an older snapshot never replaces a newer one; the others skip their
 * save, which the journal makes unnecessary for durability).  Journal
 * appends need no lock: O_APPEND positions each write atomically.
 *
 * IDENTIFICATION
 *		src/incidents.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/dbcommands.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/pg_crc32c.h"
#include "storage/condition_variable.h"
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
#include "fingerprint.h"
#include "incidents.h"
#include "notifier.h"

#define INCIDENTS_DIR			PGSTAT_STAT_PERMANENT_DIRECTORY
#define INCIDENTS_FILE			INCIDENTS_DIR "/guard_incidents.stat"
#define INCIDENTS_FILE_MAGIC	0x47444931	/* "GDI1" */
#define INCIDENTS_FILE_VERSION	4
#define IDS_FILE				INCIDENTS_DIR "/guard_incidents.ids"
#define IDS_FILE_MAGIC			0x47444949	/* "GDII" */
#define JOURNAL_PREFIX			"guard_incidents.journal."
#define JOURNAL_MAGIC_V3		0x4744494a	/* "GDIJ": records of format 3 */
#define JOURNAL_MAGIC			0x4744494b	/* "GDIK": records of format 4 */
#define SAVE_CHUNK				64	/* entries copied per lock hold */
#define IDS_WAIT_MS				1000	/* longest wait for an ids writer */
#define IDS_RETRY				USECS_PER_SEC	/* after a failed ids write */
#define INCIDENT_TEXT			GUARD_INCIDENT_TEXT	/* query and plan, clipped */
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
	IncidentData d;				/* as in format 1's file: do not change */
	uint8		rules;			/* guard.fingerprint_rules of its hashes */
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
	int64		next_id;
	int64		saved_ceiling;	/* the ids file's: no id at or above it is used */
	TimestampTz ids_failed_at;	/* last failed write of the ids file */
	uint64		system_identifier;
	uint64		journal_gen;	/* alerts append to this journal */
	uint64		journal_oldest; /* oldest journal no full save covers */
	pg_atomic_flag ids_busy;	/* the ids file is being written */
	pg_atomic_flag save_busy;	/* the full file is being written */
	ConditionVariable ids_cv;	/* ids_busy cleared */
	int64		evictions;
	int64		dropped;
	int64		suppressed;
	RateSlot	rate[RATE_SLOTS];
} IncidentsShared;

static IncidentsShared *ishared = NULL;
static HTAB *incident_hash = NULL;

/* An incident in the full file and in the journal: fixed part, then texts */
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
	uint16		len[4];			/* relation, clause, query, plan; no NULs */
	/* format 4 */
	uint8		rules;			/* guard.fingerprint_rules of the hashes */
	uint8		pad[7];
} IncidentsFileRecord;

/* a record of formats 2 and 3 ends before rules: its hashes are rules 1 */
#define RECORD_V3_SIZE	offsetof(IncidentsFileRecord, rules)

/* A journal record: this header, an IncidentsFileRecord, its texts */
typedef struct JournalHeader
{
	uint32		magic;
	uint32		len;			/* of the whole record, header included */
	pg_crc32c	crc;			/* CRC-32C of the bytes after this field */
	uint32		pad;
	uint64		system_identifier;
} JournalHeader;

#define RECORD_MAX	(sizeof(IncidentsFileRecord) + INCIDENT_RELATION + \
					 INCIDENT_CLAUSE + 2 * INCIDENT_TEXT)
#define JOURNAL_RECORD_MAX	(sizeof(JournalHeader) + RECORD_MAX)

static void incidents_shutdown(int code, Datum arg);
static void incidents_load_file(bool restored);
static bool incidents_write_file(bool clean);
static bool write_ids_file(int64 ceiling, int elevel);
static void journal_append(uint64 gen, char *rec, Size len);

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
	RequestNamedLWLockTranche("guard incidents", 1);
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
		ishared->next_id = 1;
		ishared->saved_ceiling = 1;
		ishared->journal_gen = 1;
		ishared->journal_oldest = 1;
		pg_atomic_init_flag(&ishared->ids_busy);
		pg_atomic_init_flag(&ishared->save_busy);
		ConditionVariableInit(&ishared->ids_cv);
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

/*
 * guard_incident_exists: is there an incident (open or resolved) of this
 * occurrence's database, reason, statement and plan?
 */
bool
guard_incident_exists(Oid dbid, const GuardOccurrence *occ)
{
	IncidentKey key;
	bool		found;

	make_key(&key, dbid, occ);
	LWLockAcquire(ishared->lock, LW_SHARED);
	found = hash_search(incident_hash, &key, HASH_FIND, NULL) != NULL;
	LWLockRelease(ishared->lock);
	return found;
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

/*
 * Serialize entry e into buf (NULL: only measure) as an IncidentsFileRecord
 * and its texts.  Caller holds the lock (any mode): the texts and fixed
 * fields never change while it is held; the counters are read under the
 * entry's spinlock, and only they.  Returns the bytes it takes (at most
 * RECORD_MAX).
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
	rec.incident_id = e->d.incident_id;
	rec.userid = e->d.userid;
	rec.relation_rows = e->d.relation_rows;
	rec.baseline_query_hash = e->d.baseline_query_hash;
	rec.baseline_plan_hash = e->d.baseline_plan_hash;
	rec.rules = e->rules;
	SpinLockAcquire(&e->mutex);
	rec.action = e->d.action;
	rec.would_action = e->d.would_action;
	rec.resolved = e->d.resolved;
	rec.notify_pending = e->d.notify_pending;
	rec.count = e->d.count;
	rec.first_seen = e->d.first_seen;
	rec.last_seen = e->d.last_seen;
	SpinLockRelease(&e->mutex);
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
 * JSON object describing an incident (the LOG line), from its serialized
 * record (serialize_entry) and texts relation and clause.
 */
static char *
incident_json(const IncidentsFileRecord *r, const char *relation,
			  const char *clause, const char *dbname, const char *rolename)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"incident_id\": " INT64_FORMAT ", \"database\": ", r->incident_id);
	escape_json(&buf, dbname ? dbname : "");
	appendStringInfoString(&buf, ", \"role\": ");
	escape_json(&buf, rolename ? rolename : "");
	appendStringInfo(&buf, ", \"query_hash\": %lld, \"plan_hash\": %lld, \"reason\": \"%s\"",
					 (long long) r->key.query_hash, (long long) r->key.plan_hash,
					 guard_reason_name((GuardReason) r->key.reason));
	appendStringInfoString(&buf, ", \"relation\": ");
	if (relation[0])
	{
		escape_json(&buf, relation);
		appendStringInfo(&buf, ", \"relation_rows\": %.0f", r->relation_rows);
	}
	else
		appendStringInfoString(&buf, "null, \"relation_rows\": null");
	appendStringInfo(&buf, ", \"action\": \"%s\", \"would_action\": \"%s\"",
					 guard_action_name((GuardAction) r->action),
					 guard_action_name((GuardAction) r->would_action));
	if (r->baseline_plan_hash != 0)
		appendStringInfo(&buf, ", \"baseline_query_hash\": %lld, \"baseline_plan_hash\": %lld",
						 (long long) r->baseline_query_hash,
						 (long long) r->baseline_plan_hash);
	if (clause[0])
	{
		appendStringInfoString(&buf, ", \"clause\": ");
		escape_json(&buf, clause);
	}
	appendStringInfoString(&buf, ", \"count\": ");
	appendStringInfo(&buf, INT64_FORMAT, r->count);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * Write a ceiling one block above the next id to the ids file.  Caller
 * holds ids_busy.  Returns true if written.  Clears nothing.
 */
static bool
raise_ceiling(void)
{
	int64		target;
	bool		ok;

	LWLockAcquire(ishared->lock, LW_SHARED);
	target = ishared->next_id + GUARD_INCIDENT_ID_BLOCK;
	ok = ishared->next_id + GUARD_INCIDENT_ID_BLOCK / 2 < ishared->saved_ceiling;
	LWLockRelease(ishared->lock);
	if (ok)
		return true;			/* another writer just did it */
	ok = write_ids_file(target, WARNING);
	LWLockAcquire(ishared->lock, LW_EXCLUSIVE);
	if (ok)
		ishared->saved_ceiling = Max(ishared->saved_ceiling, target);
	else
		ishared->ids_failed_at = GetCurrentTimestamp();
	LWLockRelease(ishared->lock);
	return ok;
}

/*
 * Make sure ids are left below the ceiling on disk before a new incident
 * takes one (see the banner).  The backend that finds less than half a
 * block left writes the next ceiling, the others go on meanwhile with what
 * is left; with nothing left they wait for the writer (interruptibly, at
 * most IDS_WAIT_MS).  A failed write is retried by the next incident at
 * most every IDS_RETRY.  Caller holds nothing.  Returns false if no id is
 * left: the caller must not hand one out.
 */
static bool
reserve_ids(void)
{
	TimestampTz deadline = 0;
	bool		slept = false;
	bool		left;

	for (;;)
	{
		int64		next;
		int64		ceiling;
		TimestampTz failed_at;
		TimestampTz now;

		LWLockAcquire(ishared->lock, LW_SHARED);
		next = ishared->next_id;
		ceiling = ishared->saved_ceiling;
		failed_at = ishared->ids_failed_at;
		LWLockRelease(ishared->lock);
		left = next < ceiling;
		if (next + GUARD_INCIDENT_ID_BLOCK / 2 < ceiling)
			break;
		now = GetCurrentTimestamp();
		if ((left || now - failed_at >= IDS_RETRY) &&
			pg_atomic_test_set_flag(&ishared->ids_busy))
		{
			volatile bool ok = false;

			/* the flag must not outlive an error here: others wait for it */
			PG_TRY();
			{
				ok = raise_ceiling();
			}
			PG_FINALLY();
			{
				pg_atomic_clear_flag(&ishared->ids_busy);
				ConditionVariableBroadcast(&ishared->ids_cv);
			}
			PG_END_TRY();
			left = left || ok;
			break;
		}
		if (left || now - failed_at < IDS_RETRY)
			break;				/* a writer is at work, or failed just now */
		if (deadline == 0)
			deadline = TimestampTzPlusMilliseconds(now, IDS_WAIT_MS);
		else if (now >= deadline)
			break;
		slept = true;
		(void) ConditionVariableTimedSleep(&ishared->ids_cv, 100, PG_WAIT_EXTENSION);
	}
	if (slept)
		ConditionVariableCancelSleep();
	return left;
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
 * alert rate, is appended to the journal, then gets its LOG line and is
 * queued for notification.  A new incident for which no id is left below
 * the ceiling on disk is dropped and counted.
 */
void
guard_incident_record(Oid dbid, Oid userid, const GuardOccurrence *occ,
					  TimestampTz now)
{
	IncidentKey key;
	IncidentEntry *e;
	IncidentsFileRecord rec;
	bool		fresh = false;
	bool		alert = false;
	bool		ids_left;
	RateSummary summaries[RATE_SLOTS + 1];
	int			nsummaries = 0;
	char	   *jbuf;
	char	   *body;
	Size		len = 0;
	uint64		gen = 0;
	char	   *texts[2];
	char	   *json;

	make_key(&key, dbid, occ);
	ids_left = reserve_ids();
	/* allocated before the lock: nothing under it may fail */
	jbuf = palloc(JOURNAL_RECORD_MAX);
	body = jbuf + sizeof(JournalHeader);
	LWLockAcquire(ishared->lock, LW_EXCLUSIVE);
	e = hash_search(incident_hash, &key, HASH_FIND, NULL);
	if (e == NULL)
	{
		bool		found;

		/* recheck under the lock: others may have used the last ids */
		if (ids_left && ishared->next_id < ishared->saved_ceiling &&
			make_room(dbid, userid))
			e = hash_search(incident_hash, &key, HASH_ENTER_NULL, &found);
		if (e == NULL)
		{
			ishared->dropped++;
			LWLockRelease(ishared->lock);
			pfree(jbuf);
			return;
		}
		fresh = true;
		SpinLockInit(&e->mutex);
		memset(&e->d, 0, sizeof(e->d));
		e->d.incident_id = ishared->next_id++;
		e->d.userid = userid;
		e->rules = (uint8) guard_fingerprint_rules;
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
	}
	if (fresh || bump(e, occ, now))
	{
		alert = rate_allow(userid, GetCurrentTimestamp(), summaries, &nsummaries);
		if (alert)
		{
			e->d.notify_pending = true; /* under the exclusive lock */
			/* the generation read with the entry: see incidents_write_file */
			gen = ishared->journal_gen;
			len = serialize_entry(e, body);
		}
	}
	LWLockRelease(ishared->lock);

	log_summaries(summaries, nsummaries);
	if (!alert)
	{
		pfree(jbuf);
		return;
	}

	/* on disk before the LOG line: a logged incident survives any crash */
	journal_append(gen, jbuf, len);
	guard_notifier_wake(dbid);
	memcpy(&rec, body, sizeof(rec));
	texts[0] = pnstrdup(body + sizeof(rec), rec.len[0]);
	texts[1] = pnstrdup(body + sizeof(rec) + rec.len[0], rec.len[1]);
	json = incident_json(&rec, texts[0], texts[1], get_database_name(dbid),
						 GetUserNameFromId(userid, true));
	ereport(LOG,
			(errmsg("guard incident %s", json),
			 errhidestmt(true),
			 errhidecontext(true)));
	pfree(jbuf);
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
		const IncidentData *d;

		SpinLockAcquire(&e->mutex);
		r->count = e->d.count;
		r->first_seen = e->d.first_seen;
		r->last_seen = e->d.last_seen;
		r->action = (GuardAction) e->d.action;
		r->would_action = (GuardAction) e->d.would_action;
		r->resolved = e->d.resolved;
		SpinLockRelease(&e->mutex);
		/* the rest never changes while the lock is held (banner) */
		d = &e->d;
		r->incident_id = d->incident_id;
		r->dbid = e->key.dbid;
		r->userid = d->userid;
		r->query_hash = e->key.query_hash;
		r->plan_hash = e->key.plan_hash;
		r->reason = (GuardReason) e->key.reason;
		r->relation_rows = d->relation_rows;
		r->baseline_query_hash = d->baseline_query_hash;
		r->baseline_plan_hash = d->baseline_plan_hash;
		r->relation = d->relation[0] ? pstrdup(d->relation) : NULL;
		r->clause = d->clause[0] ? pstrdup(d->clause) : NULL;
		r->query = pstrdup(d->query);
		r->plan = pstrdup(d->plan);
		r->rules = e->rules;
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

/*
 * guard_incidents_save: write the full file now (the notifier).  Skipped
 * if another save runs: the journal already holds what was alerted.
 */
void
guard_incidents_save(void)
{
	(void) incidents_write_file(false);
}

/* =====================================================================
 * The files
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
	int64		id_ceiling;		/* the ids file's ceiling when written */
	uint64		journal_gen;	/* covers journals up to it (not in format 2) */
	int64		count;
} IncidentsFileHeader;

/* guard_incidents.ids */
typedef struct IdsFile
{
	uint32		magic;
	uint32		version;		/* 1 */
	uint64		system_identifier;
	int64		ceiling;		/* no id at or above it was handed out */
	pg_crc32c	crc;			/* CRC-32C of the fields above */
	uint32		pad;
} IdsFile;

static void
journal_path(char *path, uint64 gen)
{
	snprintf(path, MAXPGPATH, "%s/%s" UINT64_FORMAT, INCIDENTS_DIR, JOURNAL_PREFIX, gen);
}

/*
 * fsync pg_stat/ itself, so that a file just created there survives a
 * crash of the machine.  Returns false (after logging at elevel) on
 * failure; never raises, unless elevel is ERROR or more.  Unlike core's
 * data files, a failed fsync here is not worth a PANIC (data_sync_retry):
 * guard's files are diagnostics, and a failure costs at most an incident.
 */
static bool
fsync_dir(int elevel)
{
	int			fd = BasicOpenFile(INCIDENTS_DIR, O_RDONLY | PG_BINARY);
	int			save_errno;

	if (fd < 0 || pg_fsync(fd) != 0)
	{
		save_errno = errno;
		if (fd >= 0)
			close(fd);
		errno = save_errno;
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not fsync directory \"%s\": %m", INCIDENTS_DIR)));
		return false;
	}
	close(fd);
	return true;
}

/*
 * Append one journal record to journal gen, durably: a single write() in
 * O_APPEND mode (the kernel positions it atomically, so concurrent
 * appenders need no lock), then fdatasync.  rec holds room for the
 * JournalHeader, then body_len bytes of serialized incident.  Caller holds
 * no lock.  A failure is a WARNING: the alert goes out anyway, and the
 * incident is saved by the next full save (unless the server crashes
 * first).
 */
static void
journal_append(uint64 gen, char *rec, Size body_len)
{
	JournalHeader hdr;
	char		path[MAXPGPATH];
	Size		total = sizeof(JournalHeader) + body_len;
	int			fd;
	ssize_t		written;

	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = JOURNAL_MAGIC;
	hdr.len = (uint32) total;
	hdr.system_identifier = ishared->system_identifier;
	memcpy(rec, &hdr, sizeof(hdr));
	INIT_CRC32C(hdr.crc);
	COMP_CRC32C(hdr.crc, rec + offsetof(JournalHeader, pad),
				total - offsetof(JournalHeader, pad));
	FIN_CRC32C(hdr.crc);
	memcpy(rec + offsetof(JournalHeader, crc), &hdr.crc, sizeof(hdr.crc));

	journal_path(path, gen);
	fd = BasicOpenFile(path, O_WRONLY | O_APPEND | PG_BINARY);
	if (fd < 0 && errno == ENOENT)
	{
		/*
		 * Saves and the start create each generation before it is used;
		 * this one is gone because a full save covered it meanwhile (and
		 * with it this incident, which was in the table before the save
		 * moved on).  The orphan is removed at the next start.
		 */
		fd = BasicOpenFile(path, O_WRONLY | O_APPEND | O_CREAT | PG_BINARY);
		if (fd >= 0 && !fsync_dir(WARNING))
		{
			close(fd);
			return;
		}
	}
	if (fd < 0)
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path),
				 errdetail("A crash before guard's next save loses this incident.")));
		return;
	}
	errno = 0;
	written = write(fd, rec, total);
	if (written != (ssize_t) total)
	{
		if (errno == 0)
			errno = ENOSPC;
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", path),
				 errdetail("A crash before guard's next save loses this incident.")));
	}
	else if (pg_fdatasync(fd) != 0)
		ereport(WARNING,	/* not a PANIC: see fsync_dir */
				(errcode_for_file_access(),
				 errmsg("could not fsync file \"%s\": %m", path),
				 errdetail("A crash before guard's next save may lose this incident.")));
	close(fd);
}

/*
 * Write the ids file: ceiling, durably (temporary file, durable rename).
 * Caller holds ids_busy or is the postmaster.  Returns true if written; a
 * failure is logged at elevel.
 */
static bool
write_ids_file(int64 ceiling, int elevel)
{
	IdsFile		f;
	char		tmp[MAXPGPATH];
	int			fd;

	memset(&f, 0, sizeof(f));
	f.magic = IDS_FILE_MAGIC;
	f.version = 1;
	f.system_identifier = ishared->system_identifier;
	f.ceiling = ceiling;
	INIT_CRC32C(f.crc);
	COMP_CRC32C(f.crc, &f, offsetof(IdsFile, crc));
	FIN_CRC32C(f.crc);

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", IDS_FILE, MyProcPid);
	fd = BasicOpenFile(tmp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
	errno = 0;
	if (fd < 0 || write(fd, &f, sizeof(f)) != sizeof(f) || close(fd) != 0)
	{
		int			save_errno = errno ? errno : ENOSPC;

		if (fd >= 0)
			close(fd);			/* harmless if already closed */
		unlink(tmp);
		errno = save_errno;
		ereport(elevel,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", tmp),
				 errdetail("New incidents are dropped while no incident id can be reserved.")));
		return false;
	}
	/* fsyncs the file, renames it, fsyncs the directory */
	return durable_rename(tmp, IDS_FILE, elevel) == 0;
}

/*
 * Read the ids file into *ceiling.  Postmaster only.  Returns 1 if read,
 * 0 if there is none (or it is another system's, LOG), -1 if it is damaged
 * (LOG).
 */
static int
read_ids_file(int64 *ceiling)
{
	IdsFile		f;
	pg_crc32c	crc;
	FILE	   *file = AllocateFile(IDS_FILE, PG_BINARY_R);
	bool		ok;

	if (file == NULL)
	{
		if (errno == ENOENT)
			return 0;
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", IDS_FILE)));
		return -1;
	}
	ok = fread(&f, sizeof(f), 1, file) == 1 && fgetc(file) == EOF;
	FreeFile(file);
	if (ok)
	{
		INIT_CRC32C(crc);
		COMP_CRC32C(crc, &f, offsetof(IdsFile, crc));
		FIN_CRC32C(crc);
		ok = f.magic == IDS_FILE_MAGIC && f.version == 1 && EQ_CRC32C(crc, f.crc) &&
			f.ceiling >= 1;
	}
	if (!ok)
	{
		ereport(LOG,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ignoring damaged file \"%s\"", IDS_FILE),
				 errdetail("Incident ids go on in a new epoch.")));
		return -1;
	}
	if (f.system_identifier != ishared->system_identifier)
	{
		ereport(LOG,
				(errmsg("ignoring file \"%s\" written by another database system",
						IDS_FILE)));
		return 0;
	}
	*ceiling = f.ceiling;
	return 1;
}

/* Remove the journals of generations from .. to (those that exist). */
static void
remove_journals(uint64 from, uint64 to)
{
	char		path[MAXPGPATH];
	uint64		g;

	for (g = from; g <= to; g++)
	{
		journal_path(path, g);
		if (unlink(path) != 0 && errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not remove file \"%s\": %m", path)));
	}
}

/*
 * Write the full file (see incidents_write_file).  Caller holds save_busy.
 * The table is copied SAVE_CHUNK entries per hold of the lock in shared
 * mode, and written with no lock held.
 */
static bool
write_full_file(bool clean)
{
	IncidentsFileHeader hdr;
	HASH_SEQ_STATUS hs;
	IncidentEntry *e;
	IncidentKey *keys;
	char	   *buf;
	char		tmp[MAXPGPATH];
	char		path[MAXPGPATH];
	long		nkeys = 0;
	long		i;
	uint64		covered;
	uint64		oldest;
	FILE	   *file;
	uint32		trailer = INCIDENTS_FILE_MAGIC;
	bool		ok;
	bool		keep = guard_save || !clean;
	int			fd;

	keys = palloc_extended(Max(guard_max_incidents, 1) * sizeof(IncidentKey),
						   MCXT_ALLOC_NO_OOM);
	buf = palloc_extended(SAVE_CHUNK * RECORD_MAX, MCXT_ALLOC_NO_OOM);
	if (keys == NULL || buf == NULL)
	{
		ereport(LOG,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not save the incidents to \"%s\".", INCIDENTS_FILE)));
		if (keys)
			pfree(keys);
		if (buf)
			pfree(buf);
		return false;
	}

	/*
	 * The next journal exists, durably, before any append may go to it
	 * (only savers, one at a time, move the generation on).
	 */
	LWLockAcquire(ishared->lock, LW_SHARED);
	covered = ishared->journal_gen;
	LWLockRelease(ishared->lock);
	if (!clean)
	{
		journal_path(path, covered + 1);
		fd = BasicOpenFile(path, O_WRONLY | O_CREAT | PG_BINARY);
		if (fd < 0)
		{
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not create file \"%s\": %m", path)));
			pfree(keys);
			pfree(buf);
			return false;
		}
		close(fd);
		if (!fsync_dir(LOG))
		{
			pfree(keys);
			pfree(buf);
			return false;
		}
	}

	/*
	 * Move appends on to the next generation and list the incidents, in one
	 * hold of the lock: an incident appended to a covered journal was in
	 * the table before (guard_incident_record reads the generation with the
	 * entry under this lock), so it is in this file.
	 */
	memset(&hdr, 0, sizeof(hdr));
	LWLockAcquire(ishared->lock, LW_EXCLUSIVE);
	Assert(ishared->journal_gen == covered);
	ishared->journal_gen = covered + 1;
	hdr.magic = INCIDENTS_FILE_MAGIC;
	hdr.version = INCIDENTS_FILE_VERSION;
	hdr.pg_version = PG_VERSION_NUM / 100;
	hdr.system_identifier = ishared->system_identifier;
	hdr.next_id = ishared->next_id;
	hdr.id_ceiling = clean ? ishared->next_id : Max(ishared->saved_ceiling, ishared->next_id);
	hdr.journal_gen = covered;
	if (keep)
	{
		hash_seq_init(&hs, incident_hash);
		while ((e = hash_seq_search(&hs)) != NULL)
		{
			if (nkeys < guard_max_incidents)
				keys[nkeys++] = e->key;
		}
	}
	LWLockRelease(ishared->lock);

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", INCIDENTS_FILE, MyProcPid);
	file = AllocateFile(tmp, PG_BINARY_W);
	ok = file != NULL && fwrite(&hdr, sizeof(hdr), 1, file) == 1;
	for (i = 0; ok && i < nkeys; i += SAVE_CHUNK)
	{
		Size		off = 0;
		long		j;

		/* an incident gone meanwhile is skipped: it is gone */
		LWLockAcquire(ishared->lock, LW_SHARED);
		for (j = i; j < nkeys && j < i + SAVE_CHUNK; j++)
		{
			e = hash_search(incident_hash, &keys[j], HASH_FIND, NULL);
			if (e != NULL)
			{
				off += serialize_entry(e, buf + off);
				hdr.count++;
			}
		}
		LWLockRelease(ishared->lock);
		ok = off == 0 || fwrite(buf, off, 1, file) == 1;
	}
	ok = ok && fwrite(&trailer, sizeof(trailer), 1, file) == 1 &&
		fseek(file, 0, SEEK_SET) == 0 &&
		fwrite(&hdr, sizeof(hdr), 1, file) == 1;
	if (file != NULL && FreeFile(file) != 0)
		ok = false;
	pfree(keys);
	pfree(buf);
	if (!ok)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", tmp)));
		unlink(tmp);
	}
	else
		ok = durable_rename(tmp, INCIDENTS_FILE, LOG) == 0;
	if (clean)
		(void) write_ids_file(hdr.next_id, LOG);	/* numbering on without a gap */
	if (!ok)
		return false;

	/* the covered journals are now redundant */
	LWLockAcquire(ishared->lock, LW_EXCLUSIVE);
	oldest = ishared->journal_oldest;
	ishared->journal_oldest = covered + 1;
	LWLockRelease(ishared->lock);
	remove_journals(oldest, covered);
	return true;
}

/*
 * Write the full file and drop the journals it covers.  Writers take turns
 * (save_busy): one that finds another at work skips its save.  clean: the
 * postmaster at shutdown, nothing runs any more; the ids file then records
 * the next id itself.  Returns true if the file was written; a failure is
 * logged, never raised.
 */
static bool
incidents_write_file(bool clean)
{
	volatile bool ok = false;

	if (!pg_atomic_test_set_flag(&ishared->save_busy))
		return false;
	PG_TRY();
	{
		ok = write_full_file(clean);
	}
	PG_FINALLY();
	{
		pg_atomic_clear_flag(&ishared->save_busy);
	}
	PG_END_TRY();
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
 * Number new incidents in a random epoch of this server's own, and say so
 * in the ids file at once (a crash before its first incident must not
 * bring it back to the numbering it had).  Postmaster only.
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
	ishared->saved_ceiling = ishared->next_id;
	if (write_ids_file(ishared->next_id + GUARD_INCIDENT_ID_BLOCK, LOG))
		ishared->saved_ceiling = ishared->next_id + GUARD_INCIDENT_ID_BLOCK;
}

/* Is a loaded record plausible?  ceiling: 0 for none. */
static bool
record_valid(const IncidentsFileRecord *rec, int64 ceiling)
{
	return rec->key.reason <= GUARD_REASON_ANDOR_PRECEDENCE &&
		rec->rules <= GUARD_FINGERPRINT_RULES_MAX &&
		rec->action <= GUARD_ACTION_BLOCKED &&
		rec->would_action <= GUARD_ACTION_BLOCKED &&
		rec->incident_id >= 1 &&
		(ceiling == 0 || rec->incident_id < ceiling) &&
		rec->len[0] < INCIDENT_RELATION && rec->len[1] < INCIDENT_CLAUSE &&
		rec->len[2] < INCIDENT_TEXT && rec->len[3] < INCIDENT_TEXT;
}

/*
 * Put a loaded record (texts: its four texts, back to back) into the table.
 * A journal record replaces the full file's copy of the same incident (it
 * is newer), keeping the larger count and the wider first/last_seen; an
 * incident with a larger id under the same key is a later one and stays.
 * Postmaster only.  Returns false if there was no room.
 */
static bool
apply_record(const IncidentsFileRecord *rec, const char *texts)
{
	IncidentEntry *e;
	IncidentData *d;
	char	   *dst[4];
	int64		count = rec->count;
	TimestampTz first_seen = rec->first_seen;
	TimestampTz last_seen = rec->last_seen;
	int			k;

	e = hash_search(incident_hash, &rec->key, HASH_FIND, NULL);
	if (e != NULL)
	{
		if (e->d.incident_id > rec->incident_id)
			return true;
		if (e->d.incident_id == rec->incident_id)
		{
			count = Max(count, e->d.count);
			first_seen = Min(first_seen, e->d.first_seen);
			last_seen = Max(last_seen, e->d.last_seen);
		}
	}
	else
		e = insert_raw(&rec->key);
	if (e == NULL)
		return false;
	d = &e->d;
	memset(d, 0, sizeof(*d));
	d->incident_id = rec->incident_id;
	d->userid = rec->userid;
	e->rules = rec->rules != 0 ? rec->rules : 1;
	d->action = rec->action;
	d->would_action = rec->would_action;
	d->resolved = rec->resolved;
	d->notify_pending = rec->notify_pending;
	d->count = count;
	d->first_seen = first_seen;
	d->last_seen = last_seen;
	d->relation_rows = rec->relation_rows;
	d->baseline_query_hash = rec->baseline_query_hash;
	d->baseline_plan_hash = rec->baseline_plan_hash;
	dst[0] = d->relation;
	dst[1] = d->clause;
	dst[2] = d->query;
	dst[3] = d->plan;
	for (k = 0; k < 4; k++)
	{
		memcpy(dst[k], texts, rec->len[k]);
		dst[k][rec->len[k]] = '\0';
		texts += rec->len[k];
	}
	return true;
}

/*
 * Read the records of a file of format 1 (extension 0.3), whose header is
 * the first 16 bytes of IncidentsFileHeader then int64 next_id and int64
 * count, and whose records are (IncidentKey, IncidentData).  It records no
 * ceiling: numbering goes on from its next id.  Postmaster only.  Returns
 * false if the file is damaged.
 */
static bool
load_v1(FILE *file, int64 *ceiling, int64 *max_id)
{
	int64		v1[2];			/* next_id, count */
	int64		i;
	IncidentKey key;
	IncidentData d;
	uint32		trailer;

	if (fread(v1, sizeof(v1), 1, file) != 1 || v1[0] < 1 || v1[1] < 0)
		return false;
	for (i = 0; i < v1[1]; i++)
	{
		IncidentEntry *e;

		if (fread(&key, sizeof(key), 1, file) != 1 ||
			fread(&d, sizeof(d), 1, file) != 1)
			return false;
		if (key.reason > GUARD_REASON_ANDOR_PRECEDENCE ||
			d.action > GUARD_ACTION_BLOCKED || d.would_action > GUARD_ACTION_BLOCKED ||
			d.incident_id < 1)
			return false;
		d.relation[INCIDENT_RELATION - 1] = '\0';
		d.clause[INCIDENT_CLAUSE - 1] = '\0';
		d.query[INCIDENT_TEXT - 1] = '\0';
		d.plan[INCIDENT_TEXT - 1] = '\0';
		*max_id = Max(*max_id, d.incident_id);
		e = insert_raw(&key);
		if (e != NULL)
		{
			e->d = d;
			e->rules = 1;		/* extension 0.3: rules 1 */
		}
	}
	if (fread(&trailer, sizeof(trailer), 1, file) != 1 || trailer != INCIDENTS_FILE_MAGIC)
		return false;
	*ceiling = Max(*ceiling, v1[0]);
	return true;
}

/*
 * Read the full file (formats 1 to 4).  Raises *ceiling to the ceiling it
 * records, *max_id to its largest id, sets *covered to the journal
 * generation it covers.  A damaged or foreign file is ignored with a LOG,
 * nothing half-loaded.  Postmaster only.  Returns 1 if its header was read
 * (even if the rest is damaged), 0 if there is no file of this system and
 * version, -1 if the file is there but not even its header is readable.
 */
static int
load_main(int64 *ceiling, int64 *max_id, uint64 *covered)
{
	FILE	   *file;
	IncidentsFileHeader hdr;
	IncidentsFileRecord rec;
	char	   *texts;
	uint32		trailer;
	int64		i;
	int64		loaded_max = 0;

	file = AllocateFile(INCIDENTS_FILE, PG_BINARY_R);
	if (file == NULL)
	{
		if (errno == ENOENT)
			return 0;
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", INCIDENTS_FILE)));
		return -1;
	}
	memset(&hdr, 0, sizeof(hdr));
	if (fread(&hdr, offsetof(IncidentsFileHeader, system_identifier), 1, file) != 1)
		goto unreadable;
	if (hdr.magic == INCIDENTS_FILE_MAGIC && hdr.version == 1 &&
		hdr.pg_version == PG_VERSION_NUM / 100)
	{
		int64		v1_ceiling = 1;

		if (!load_v1(file, &v1_ceiling, &loaded_max))
			goto unreadable;	/* its next id is unknown */
		FreeFile(file);
		*ceiling = Max(*ceiling, v1_ceiling);
		*max_id = Max(*max_id, loaded_max);
		return 1;
	}
	if (hdr.magic != INCIDENTS_FILE_MAGIC || hdr.version < 2 ||
		hdr.version > INCIDENTS_FILE_VERSION || hdr.pg_version != PG_VERSION_NUM / 100)
	{
		ereport(LOG,
				(errmsg("ignoring file \"%s\" written by another version of guard or PostgreSQL",
						INCIDENTS_FILE)));
		FreeFile(file);
		return 0;
	}
	/* format 2 has no journal generation */
	if (fread(&hdr.system_identifier, sizeof(uint64), 1, file) != 1 ||
		fread(&hdr.next_id, sizeof(int64), 1, file) != 1 ||
		fread(&hdr.id_ceiling, sizeof(int64), 1, file) != 1 ||
		(hdr.version >= 3 && fread(&hdr.journal_gen, sizeof(uint64), 1, file) != 1) ||
		fread(&hdr.count, sizeof(int64), 1, file) != 1)
		goto unreadable;
	if (hdr.system_identifier != ishared->system_identifier)
	{
		ereport(LOG,
				(errmsg("ignoring file \"%s\" written by another database system",
						INCIDENTS_FILE),
				 errdetail("The file's database system identifier is " UINT64_FORMAT ", the server's is " UINT64_FORMAT ".",
						   hdr.system_identifier, ishared->system_identifier)));
		FreeFile(file);
		return 0;
	}
	if (hdr.next_id < 1 || hdr.id_ceiling < hdr.next_id)
		goto unreadable;
	/* ids must not start over, even if the rest is damaged */
	*ceiling = Max(*ceiling, hdr.id_ceiling);
	*covered = hdr.journal_gen;
	texts = palloc(RECORD_MAX);
	for (i = 0; hdr.count >= 0 && i < hdr.count; i++)
	{
		Size		tlen;

		memset(&rec, 0, sizeof(rec));
		if (fread(&rec, hdr.version >= 4 ? sizeof(rec) : RECORD_V3_SIZE, 1, file) != 1 ||
			!record_valid(&rec, hdr.id_ceiling))
			break;
		tlen = rec.len[0] + rec.len[1] + rec.len[2] + rec.len[3];
		if (tlen > 0 && fread(texts, tlen, 1, file) != 1)
			break;
		loaded_max = Max(loaded_max, rec.incident_id);
		/* the file may hold more than guard.max_incidents allows now */
		(void) apply_record(&rec, texts);
	}
	pfree(texts);
	if (hdr.count < 0 || i < hdr.count ||
		fread(&trailer, sizeof(trailer), 1, file) != 1 || trailer != INCIDENTS_FILE_MAGIC)
	{
		ereport(LOG,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ignoring damaged file \"%s\"", INCIDENTS_FILE)));
		FreeFile(file);
		forget_all();
		return 1;
	}
	FreeFile(file);
	*max_id = Max(*max_id, loaded_max);
	return 1;

unreadable:
	ereport(LOG,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("ignoring damaged file \"%s\"", INCIDENTS_FILE)));
	FreeFile(file);
	forget_all();
	return -1;
}

/*
 * Replay one journal over the table.  A record that is torn (a crash in
 * the middle of its write) or damaged fails its length or CRC check: the
 * damaged bytes are skipped, up to the next valid record, and reported
 * once with a LOG.  Postmaster only.
 */
static void
replay_journal(const char *path, int64 *max_id)
{
	FILE	   *file;
	struct stat st;
	char	   *data;
	Size		size;
	Size		pos = 0;
	Size		damaged = 0;
	Size		first_damaged = 0;
	int64		replayed = 0;
	int64		foreign = 0;

	file = AllocateFile(path, PG_BINARY_R);
	if (file == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", path)));
		return;
	}
	if (fstat(fileno(file), &st) != 0 || st.st_size > (off_t) MaxAllocHugeSize)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", path)));
		FreeFile(file);
		return;
	}
	size = (Size) st.st_size;
	data = palloc_extended(Max(size, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (data == NULL || (size > 0 && fread(data, size, 1, file) != 1))
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", path)));
		FreeFile(file);
		if (data)
			pfree(data);
		return;
	}
	FreeFile(file);

	while (pos < size)
	{
		JournalHeader hdr;
		IncidentsFileRecord rec;
		pg_crc32c	crc;
		bool		ok = false;
		Size		recsize = sizeof(rec);

		if (size - pos >= sizeof(hdr) + RECORD_V3_SIZE)
		{
			memcpy(&hdr, data + pos, sizeof(hdr));
			/* a journal of 0.4 (format 3) has shorter records */
			if (hdr.magic == JOURNAL_MAGIC_V3)
				recsize = RECORD_V3_SIZE;
			if ((hdr.magic == JOURNAL_MAGIC || hdr.magic == JOURNAL_MAGIC_V3) &&
				hdr.len >= sizeof(hdr) + recsize &&
				hdr.len <= JOURNAL_RECORD_MAX && hdr.len <= size - pos)
			{
				INIT_CRC32C(crc);
				COMP_CRC32C(crc, data + pos + offsetof(JournalHeader, pad),
							hdr.len - offsetof(JournalHeader, pad));
				FIN_CRC32C(crc);
				memset(&rec, 0, sizeof(rec));
				memcpy(&rec, data + pos + sizeof(hdr), recsize);
				ok = EQ_CRC32C(crc, hdr.crc) && record_valid(&rec, 0) &&
					sizeof(hdr) + recsize + rec.len[0] + rec.len[1] +
					rec.len[2] + rec.len[3] == hdr.len;
			}
		}
		if (!ok)
		{
			if (damaged++ == 0)
				first_damaged = pos;
			pos++;				/* look for the next record */
			continue;
		}
		if (hdr.system_identifier != ishared->system_identifier)
			foreign++;
		else
		{
			*max_id = Max(*max_id, rec.incident_id);
			(void) apply_record(&rec, data + pos + sizeof(hdr) + recsize);
			replayed++;
		}
		pos += hdr.len;
	}
	pfree(data);
	if (damaged > 0)
		ereport(LOG,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ignoring %zu damaged bytes at offset %zu of file \"%s\"",
						damaged, first_damaged, path),
				 errdetail("A record torn by a crash, or damaged; the " INT64_FORMAT " valid records were replayed.",
						   replayed)));
	if (foreign > 0)
		ereport(LOG,
				(errmsg("ignoring " INT64_FORMAT " records of file \"%s\" written by another database system",
						foreign, path)));
	if (replayed > 0)
		ereport(LOG,
				(errmsg("guard replayed " INT64_FORMAT " incident records from \"%s\"",
						replayed, path)));
}

static int
cmp_uint64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * The journals in pg_stat/, oldest first: replay those newer than covered
 * (what the full file covers), remove the others (all of them if
 * remove_all).  Returns the newest generation found (0: none).  Postmaster
 * only.
 */
static uint64
replay_journals(uint64 covered, bool remove_all, int64 *max_id)
{
	DIR		   *dir;
	struct dirent *de;
	uint64	   *gens = NULL;
	int			n = 0;
	int			max = 0;
	int			i;
	uint64		newest = 0;
	char		path[MAXPGPATH];

	dir = AllocateDir(INCIDENTS_DIR);
	while ((de = ReadDirExtended(dir, INCIDENTS_DIR, LOG)) != NULL)
	{
		char	   *end;
		uint64		g;

		if (strncmp(de->d_name, JOURNAL_PREFIX, strlen(JOURNAL_PREFIX)) != 0)
			continue;
		errno = 0;
		g = strtou64(de->d_name + strlen(JOURNAL_PREFIX), &end, 10);
		if (errno != 0 || *end != '\0' || end == de->d_name + strlen(JOURNAL_PREFIX))
			continue;
		if (n >= max)
		{
			max = max ? 2 * max : 16;
			gens = gens ? repalloc(gens, max * sizeof(uint64)) : palloc(max * sizeof(uint64));
		}
		gens[n++] = g;
	}
	FreeDir(dir);
	if (n > 0)
		qsort(gens, n, sizeof(uint64), cmp_uint64);
	for (i = 0; i < n; i++)
	{
		journal_path(path, gens[i]);
		newest = Max(newest, gens[i]);
		if (remove_all || gens[i] <= covered)
		{
			if (unlink(path) != 0)
				ereport(LOG,
						(errcode_for_file_access(),
						 errmsg("could not remove file \"%s\": %m", path)));
		}
		else
			replay_journal(path, max_id);
	}
	if (gens)
		pfree(gens);
	return newest;
}

/*
 * Read the files at start-up (postmaster, before any backend exists):
 * unlike observed plans, incidents are read after a crash too.  restored:
 * this server was restored from a base backup, and the files, if any, are
 * its origin's.  Ends with a full save, which sets a fresh journal up.
 */
static void
incidents_load_file(bool restored)
{
	int64		ceiling = 1;	/* ids below it may have been handed out */
	int64		max_id = 0;
	uint64		covered = 0;
	uint64		newest;
	int			ids;
	int			main_file;

	if (restored)
	{
		if (access(INCIDENTS_FILE, F_OK) == 0)
			ereport(LOG,
					(errmsg("ignoring file \"%s\" copied by the base backup this server was restored from",
							INCIDENTS_FILE),
					 errdetail("Its incidents are the origin server's; this server numbers its own incidents apart.")));
		newest = replay_journals(0, true, &max_id);
		ishared->journal_gen = ishared->journal_oldest = newest + 1;
		new_epoch();
		(void) incidents_write_file(false); /* replaces the origin's file */
		return;
	}
	ids = read_ids_file(&ceiling);
	main_file = load_main(&ceiling, &max_id, &covered);
	newest = replay_journals(covered, false, &max_id);
	ishared->journal_gen = Max(covered, newest) + 1;
	ishared->journal_oldest = covered + 1;
	if (ids < 0 || (ids == 0 && main_file < 0))
	{
		/* ids may have been handed out above anything known: start apart */
		new_epoch();
	}
	else
	{
		/* after a crash, numbering goes on above anything handed out */
		ishared->next_id = Max(ceiling, max_id + 1);
		ishared->saved_ceiling = ishared->next_id;
	}
	(void) incidents_write_file(false);
}
