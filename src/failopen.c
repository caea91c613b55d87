/*-------------------------------------------------------------------------
 *
 * failopen.c
 *		guard fails open: its own failures become a WARNING and the
 *		statement runs; its refusals and the server's interrupts do not.
 *
 * IDENTIFICATION
 *		src/failopen.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "storage/ipc.h"
#include "utils/elog.h"

#include "guard.h"
#include "incidents.h"
#include "store.h"

/*
 * guard_fail_open: called in PG_CATCH around guard's own work.  Query
 * cancels and shutdown requests are re-thrown (swallowing them would make
 * the statement uncancellable); anything else becomes a WARNING and the
 * statement goes on.  In parallel mode nothing is swallowed: work there
 * (reading guard.baseline) runs without the internal subtransaction that
 * would release what an error left behind, so the query fails instead.
 * detail says what the failure cost the statement
 * (NULL: it runs unguarded).  cxt is the memory context to return to.
 */
void
guard_fail_open(const char *what, const char *detail, MemoryContext cxt)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	/* a spinlock cannot be held here: nothing that can fail runs under one */
	if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
		edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE ||
		edata->sqlerrcode == ERRCODE_T_R_DEADLOCK_DETECTED ||
		edata->sqlerrcode == ERRCODE_T_R_SERIALIZATION_FAILURE ||
		edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
		edata->sqlerrcode == ERRCODE_CRASH_SHUTDOWN ||
		edata->sqlerrcode == ERRCODE_GUARD_BLOCKED ||
		edata->sqlerrcode == ERRCODE_GUARD_THROTTLED ||
		edata->elevel > ERROR ||
		proc_exit_inprogress ||
		IsInParallelMode())
	{
		FreeErrorData(edata);
		PG_RE_THROW();
	}
	FlushErrorState();
	/* the store avoids failing under its lock; make sure all the same */
	guard_store_release_locks();
	guard_incidents_release_locks();
	ereport(WARNING,
			(errmsg("guard could not %s: %s", what, edata->message),
			 detail ? errdetail_internal("%s", detail) :
			 errdetail("The statement runs unguarded.")));
	FreeErrorData(edata);
}
