/*-------------------------------------------------------------------------
 *
 * throttle.c
 *		Limp mode: at most guard.flagged_max_concurrency backends at a time
 *		run flagged plans; the others wait, then fail.
 *
 * With guard.mode = block and guard.flagged_max_concurrency = N > 0, a
 * flagged plan (other than a rejected one, which is always refused) does
 * not fail at once: its backend takes one of N shared slots before the
 * executor starts, waiting up to guard.flagged_wait_timeout for one, and
 * fails with QG002 if none frees up.  The database keeps serving everything
 * else while the bad release is rolled back.
 *
 * A slot belongs to a backend, not to a statement: a backend holding one
 * runs nested flagged statements (a function calling another flagged
 * query) without taking a second, so it can never wait for itself.  The
 * slot is given back when the last flagged statement of the backend ends
 * (ExecutorEnd), when its (sub)transaction aborts (error, cancel), when its
 * transaction ends in any way, and when the backend exits.
 *
 * A waiting backend holds the locks its statement already took; a slot
 * holder waiting for one of them is invisible to the deadlock detector, so
 * both wait until guard.flagged_wait_timeout (at most an hour) ends it.
 *
 * Shared state: a counter of slots in use (atomic, compare-and-swap) and a
 * condition variable the waiters sleep on.
 *
 * IDENTIFICATION
 *		src/throttle.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "guard.h"
#include "throttle.h"

typedef struct ThrottleShared
{
	pg_atomic_uint32 running;	/* slots in use */
	ConditionVariable cv;		/* signalled when a slot is given back */
	pg_atomic_uint64 waits;		/* statements that had to wait */
	pg_atomic_uint64 timeouts;	/* statements that gave up (QG002) */
} ThrottleShared;

static ThrottleShared *tshared = NULL;

/* This backend's flagged statements running under its slot */
typedef struct Holder
{
	QueryDesc  *queryDesc;
	int			nest_level;
} Holder;

#define MAX_HOLDERS 64
static Holder holders[MAX_HOLDERS];
static int	nholders = 0;
static bool slot_held = false;
static bool callbacks_registered = false;

/* Read by the ExecutorEnd hook: is there anything to give back? */
bool		guard_throttle_active = false;

Size
guard_throttle_size(void)
{
	return MAXALIGN(sizeof(ThrottleShared));
}

void
guard_throttle_request(void)
{
	RequestAddinShmemSpace(guard_throttle_size());
}

void
guard_throttle_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	tshared = ShmemInitStruct("guard throttle", sizeof(ThrottleShared), &found);
	if (!found)
	{
		pg_atomic_init_u32(&tshared->running, 0);
		ConditionVariableInit(&tshared->cv);
		pg_atomic_init_u64(&tshared->waits, 0);
		pg_atomic_init_u64(&tshared->timeouts, 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

int
guard_throttle_running(void)
{
	return tshared ? (int) pg_atomic_read_u32(&tshared->running) : 0;
}

void
guard_throttle_counters(int64 *waits, int64 *timeouts)
{
	*waits = tshared ? (int64) pg_atomic_read_u64(&tshared->waits) : 0;
	*timeouts = tshared ? (int64) pg_atomic_read_u64(&tshared->timeouts) : 0;
}

static void
give_back(void)
{
	nholders = 0;
	guard_throttle_active = false;
	if (slot_held)
	{
		slot_held = false;
		pg_atomic_fetch_sub_u32(&tshared->running, 1);
		ConditionVariableBroadcast(&tshared->cv);
	}
}

/*
 * The transaction ends: every executor of it has ended (at commit,
 * PreCommit_Portals finished them, holdable cursors included; a portal that
 * failed inside a rolled-back savepoint never reaches ExecutorEnd), so
 * whatever is still held is given back.
 */
static void
throttle_xact_cb(XactEvent event, void *arg)
{
	if (guard_throttle_active &&
		(event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		 event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		 event == XACT_EVENT_PREPARE))
		give_back();
}

static void
throttle_subxact_cb(SubXactEvent event, SubTransactionId mySubid,
					SubTransactionId parentSubid, void *arg)
{
	int			level;

	if (!guard_throttle_active)
		return;
	level = GetCurrentTransactionNestLevel();
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		while (nholders > 0 && holders[nholders - 1].nest_level >= level)
			nholders--;
		if (nholders == 0)
			give_back();
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		int			i;

		/* a released savepoint's statements now belong to its parent */
		for (i = 0; i < nholders; i++)
			if (holders[i].nest_level >= level)
				holders[i].nest_level = level - 1;
	}
}

static void
throttle_exit(int code, Datum arg)
{
	if (slot_held && tshared != NULL)
		give_back();
}

/* Try to take a slot once; true on success. */
static bool
try_take(int max)
{
	uint32		cur = pg_atomic_read_u32(&tshared->running);

	while (cur < (uint32) max)
	{
		if (pg_atomic_compare_exchange_u32(&tshared->running, &cur, cur + 1))
			return true;
	}
	return false;
}

/*
 * guard_throttle_enter: take (or share) this backend's slot for a flagged
 * statement, waiting up to guard.flagged_wait_timeout.  Returns false when
 * the wait timed out; the caller raises QG002.
 */
bool
guard_throttle_enter(QueryDesc *queryDesc)
{
	if (!callbacks_registered)
	{
		RegisterXactCallback(throttle_xact_cb, NULL);
		RegisterSubXactCallback(throttle_subxact_cb, NULL);
		before_shmem_exit(throttle_exit, (Datum) 0);
		callbacks_registered = true;
	}

	if (!slot_held)
	{
		if (!try_take(guard_flagged_max_concurrency))
		{
			TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
															   guard_flagged_wait_timeout);
			bool		got = false;

			pg_atomic_fetch_add_u64(&tshared->waits, 1);
			ConditionVariablePrepareToSleep(&tshared->cv);
			for (;;)
			{
				long		left;

				if (try_take(guard_flagged_max_concurrency))
				{
					got = true;
					break;
				}
				left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
				if (left <= 0)
					break;
				(void) ConditionVariableTimedSleep(&tshared->cv, Min(left, 1000L),
												   PG_WAIT_EXTENSION);
			}
			ConditionVariableCancelSleep();
			if (!got)
			{
				pg_atomic_fetch_add_u64(&tshared->timeouts, 1);
				return false;
			}
		}
		slot_held = true;
	}

	if (nholders < MAX_HOLDERS)
	{
		holders[nholders].queryDesc = queryDesc;
		holders[nholders].nest_level = GetCurrentTransactionNestLevel();
		nholders++;
	}
	guard_throttle_active = true;
	return true;
}

/* ExecutorEnd: a statement that held the slot is done. */
void
guard_throttle_leave(QueryDesc *queryDesc)
{
	int			i;

	for (i = nholders - 1; i >= 0; i--)
	{
		if (holders[i].queryDesc == queryDesc)
		{
			memmove(&holders[i], &holders[i + 1], (nholders - i - 1) * sizeof(Holder));
			nholders--;
			break;
		}
	}
	if (nholders == 0)
		give_back();
}
