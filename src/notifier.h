/*-------------------------------------------------------------------------
 *
 * notifier.h
 *		The guard notifier (notifier.c): a short-lived background worker per
 *		database that sends the NOTIFY of new incidents on channel
 *		guard_incident, in a transaction of its own, and saves the incidents
 *		file.
 *
 * Locking is documented in notifier.c's banner.
 *
 * IDENTIFICATION
 *		src/notifier.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_NOTIFIER_H
#define GUARD_NOTIFIER_H

#include "fmgr.h"

extern Size guard_notifier_size(void);
extern void guard_notifier_request(void);
extern void guard_notifier_startup(void);
extern void guard_notifier_wake(Oid dbid);
extern void guard_notifier_release_locks(void);

/* bgworker entry point */
extern PGDLLEXPORT void guard_notifier_main(Datum arg);

#endif							/* GUARD_NOTIFIER_H */
