/*-------------------------------------------------------------------------
 *
 * notifier.c
 *		The guard notifier: sends the NOTIFY of new incidents.
 *
 * The NOTIFY on channel guard_incident cannot come from the statement's
 * own transaction, which a block rolls back.  A "guard notifier" background
 * worker, started on demand for the incident's database (NOTIFY is per
 * database), sends the pending notifications in a transaction of its own,
 * and exits after half a second without work (it holds a connection to the
 * database meanwhile: a DROP DATABASE waits for it).  On a standby (no
 * NOTIFY during recovery) it sends nothing.
 *
 * It also writes the full incidents file (guard_incidents_save), which
 * folds the journal the alerting backends appended to into it: once idle
 * after sending, and at most every NOTIFIER_SAVE_INTERVAL while busy.  The
 * journal keeps alerted incidents crash-safe meanwhile, so the (whole
 * table) save need not follow every batch.
 *
 * The payload carries no text: incident id, database, reason, action and
 * the two hashes.  Any role that may connect to the database can LISTEN,
 * so a payload must say no more than guard.incidents shows every role;
 * listeners read the details from guard.incidents, which masks the texts,
 * plans and relation names of other roles.
 *
 * Which incidents are pending, and the LOG line, are incidents.c's
 * business; this file only owns the workers.
 *
 * Locking: nshared->lock (LWLock, its own tranche) guards the slots.  A
 * backend marks an incident pending (under the incidents lock), then calls
 * guard_notifier_wake, which starts a worker unless one holds the
 * database's slot.  A worker with nothing left gives its slot up, then
 * looks for pending incidents once more, and takes a slot again if it
 * finds some: whichever order the two run in, a pending notification is
 * never left without a worker.
 *
 * IDENTIFICATION
 *		src/notifier.c
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
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "guard.h"
#include "incidents.h"
#include "notifier.h"

#define NOTIFIERS				4		/* databases notified at once */
#define NOTIFY_CHANNEL			"guard_incident"
#define NOTIFY_BATCH			64		/* notifications per transaction */
#define NOTIFIER_SAVE_INTERVAL	(10 * USECS_PER_SEC)

typedef struct NotifierShared
{
	LWLock	   *lock;
	int64		failures;		/* could not start a notifier */
	Oid			db[NOTIFIERS];	/* databases with a notifier */
	pid_t		pid[NOTIFIERS]; /* 0 until the worker runs */
	TimestampTz claimed[NOTIFIERS]; /* when the slot was claimed */
} NotifierShared;

static NotifierShared *nshared = NULL;

Size
guard_notifier_size(void)
{
	return MAXALIGN(sizeof(NotifierShared));
}

/* Called from guard_incidents_request (shmem_request_hook). */
void
guard_notifier_request(void)
{
	RequestAddinShmemSpace(guard_notifier_size());
	RequestNamedLWLockTranche("guard notifier", 1);
}

/* Called from guard_incidents_startup (shmem_startup_hook). */
void
guard_notifier_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	nshared = ShmemInitStruct("guard notifier", sizeof(NotifierShared), &found);
	if (!found)
	{
		memset(nshared, 0, sizeof(*nshared));
		nshared->lock = &(GetNamedLWLockTranche("guard notifier"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Release the lock if this backend holds it (fail-open path). */
void
guard_notifier_release_locks(void)
{
	if (nshared != NULL && LWLockHeldByMe(nshared->lock))
	{
		HOLD_INTERRUPTS();		/* see guard_store_release_locks */
		LWLockRelease(nshared->lock);
	}
}

/*
 * Is the notifier of slot i gone without giving its slot back?  Its start
 * failed (fork, no worker slot: the postmaster forgets a never-restart
 * worker) or it died without running its exit callback.  Caller holds the
 * lock exclusively.
 */
static bool
notifier_lost(int i, TimestampTz now)
{
	if (nshared->pid[i] == 0)
		return now - nshared->claimed[i] > 10 * USECS_PER_SEC;
	return kill(nshared->pid[i], 0) != 0 && errno == ESRCH;
}

/*
 * Claim a slot for dbid.  Caller holds the lock exclusively; returns true
 * if the slot is new (the caller must then run a worker for it), false if
 * a notifier already serves dbid or every slot is busy (the notification
 * waits for the database's next incident).
 */
static bool
claim_slot(Oid dbid)
{
	int			i;
	int			free_slot = -1;
	TimestampTz now = GetCurrentTimestamp();

	for (i = 0; i < NOTIFIERS; i++)
	{
		if (nshared->db[i] != InvalidOid && notifier_lost(i, now))
			nshared->db[i] = InvalidOid;
		if (nshared->db[i] == dbid)
			return false;
		if (nshared->db[i] == InvalidOid && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return false;
	nshared->db[free_slot] = dbid;
	nshared->pid[free_slot] = 0;
	nshared->claimed[free_slot] = now;
	return true;
}

static void
unclaim_slot(Oid dbid)
{
	int			i;

	for (i = 0; i < NOTIFIERS; i++)
		if (nshared->db[i] == dbid)
		{
			nshared->db[i] = InvalidOid;
			nshared->pid[i] = 0;
		}
}

/*
 * guard_notifier_wake: make sure a notifier runs for dbid, which has
 * pending notifications.  Logs (never raises) when no worker can start.
 */
void
guard_notifier_wake(Oid dbid)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	bool		start;

	if (nshared == NULL)
		return;
	LWLockAcquire(nshared->lock, LW_EXCLUSIVE);
	start = claim_slot(dbid);
	LWLockRelease(nshared->lock);
	if (!start)
		return;

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
		LWLockAcquire(nshared->lock, LW_EXCLUSIVE);
		unclaim_slot(dbid);
		nshared->failures++;
		LWLockRelease(nshared->lock);
		ereport(LOG,
				(errmsg("guard could not start its notifier: no background worker slot"),
				 errhint("Raise max_worker_processes; the notification is sent with the database's next incident.")));
	}
}

/* =====================================================================
 * The worker
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
	if (nshared == NULL || !OidIsValid(notifier_dbid))
		return;
	/* an error outside a transaction leaves LWLocks held in a worker */
	LWLockReleaseAll();
	LWLockAcquire(nshared->lock, LW_EXCLUSIVE);
	unclaim_slot(notifier_dbid);
	LWLockRelease(nshared->lock);
}

/* Say in shared memory that this notifier runs (claim_slot checks). */
static void
register_pid(void)
{
	int			i;

	LWLockAcquire(nshared->lock, LW_EXCLUSIVE);
	for (i = 0; i < NOTIFIERS; i++)
		if (nshared->db[i] == notifier_dbid)
			nshared->pid[i] = MyProcPid;
	LWLockRelease(nshared->lock);
}

/*
 * Nothing pending: give the slot up, then look once more (see the banner).
 * Returns true if the worker must go on, holding its slot again.
 */
static bool
give_up_slot(GuardIncidentNote *notes)
{
	bool		again = false;

	LWLockAcquire(nshared->lock, LW_EXCLUSIVE);
	unclaim_slot(notifier_dbid);
	LWLockRelease(nshared->lock);
	if (guard_incidents_take_pending(notifier_dbid, notes, 1) > 0)
	{
		LWLockAcquire(nshared->lock, LW_EXCLUSIVE);
		again = claim_slot(notifier_dbid);
		LWLockRelease(nshared->lock);
		if (again)
			register_pid();
	}
	return again;
}

/* The payload: no texts (see the banner); well under NOTIFY's 8000 bytes */
static char *
notify_payload(const GuardIncidentNote *n, const char *dbname)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"incident_id\": " INT64_FORMAT ", \"database\": ",
					 n->incident_id);
	escape_json(&buf, dbname ? dbname : "");
	appendStringInfo(&buf, ", \"query_hash\": %lld, \"plan_hash\": %lld, \"reason\": \"%s\", \"action\": \"%s\"}",
					 (long long) n->query_hash, (long long) n->plan_hash,
					 guard_reason_name(n->reason), guard_action_name(n->action));
	return buf.data;
}

static int
cmp_incident_id(const void *a, const void *b)
{
	int64		x = ((const GuardIncidentNote *) a)->incident_id;
	int64		y = ((const GuardIncidentNote *) b)->incident_id;

	return x < y ? -1 : (x > y ? 1 : 0);
}

void
guard_notifier_main(Datum arg)
{
	int			idle = 0;
	bool		unsaved = false;	/* sent a batch since the last save */
	TimestampTz last_save;
	GuardIncidentNote *notes;

	notifier_dbid = DatumGetObjectId(arg);
	pqsignal(SIGTERM, notifier_sigterm);
	BackgroundWorkerUnblockSignals();
	before_shmem_exit(notifier_exit, (Datum) 0);
	if (nshared == NULL)
		proc_exit(0);
	BackgroundWorkerInitializeConnectionByOid(notifier_dbid, InvalidOid, 0);
	pgstat_report_appname("guard notifier");
	register_pid();
	notes = palloc(NOTIFY_BATCH * sizeof(GuardIncidentNote));
	last_save = GetCurrentTimestamp();

	for (;;)
	{
		int			n;
		int			i;

		CHECK_FOR_INTERRUPTS();
		if (got_sigterm)
			break;				/* what is pending waits for the next notifier */
		n = guard_incidents_take_pending(notifier_dbid, notes, NOTIFY_BATCH);
		if (n > 0)
		{
			qsort(notes, n, sizeof(GuardIncidentNote), cmp_incident_id);
			SetCurrentStatementStartTimestamp();
			in_xact = true;
			if (got_sigterm)
				die(SIGTERM);
			StartTransactionCommand();
			if (!RecoveryInProgress())
			{
				char	   *dbname = get_database_name(notifier_dbid);

				for (i = 0; i < n; i++)
					Async_Notify(NOTIFY_CHANNEL, notify_payload(&notes[i], dbname));
			}
			CommitTransactionCommand();
			in_xact = false;
			guard_incidents_done_pending(notes, n);
			unsaved = true;
			if (GetCurrentTimestamp() - last_save >= NOTIFIER_SAVE_INTERVAL)
			{
				guard_incidents_save();
				last_save = GetCurrentTimestamp();
				unsaved = false;
			}
			idle = 0;
		}
		else if (++idle >= 5)
		{
			if (unsaved)
			{
				guard_incidents_save();
				last_save = GetCurrentTimestamp();
				unsaved = false;
			}
			if (!give_up_slot(notes))
			{
				notifier_dbid = InvalidOid; /* notifier_exit: nothing left */
				break;
			}
			idle = 0;
			continue;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	proc_exit(0);
}
