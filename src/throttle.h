/*-------------------------------------------------------------------------
 *
 * throttle.h
 *		Limp mode (throttle.c): at most guard.flagged_max_concurrency
 *		flagged statements run at once; the others wait for a slot.
 *
 * IDENTIFICATION
 *		src/throttle.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_THROTTLE_H
#define GUARD_THROTTLE_H

#include "executor/execdesc.h"

extern void guard_throttle_request(void);
extern void guard_throttle_startup(void);
extern Size guard_throttle_size(void);
extern bool guard_throttle_enter(QueryDesc *queryDesc);
extern void guard_throttle_leave(QueryDesc *queryDesc);
extern bool guard_throttle_active;
extern int	guard_throttle_running(void);
extern void guard_throttle_counters(int64 *waits, int64 *timeouts);

#endif							/* GUARD_THROTTLE_H */
