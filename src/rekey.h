/*-------------------------------------------------------------------------
 *
 * rekey.h
 *		guard.rekey() (rekey.c): file the decisions made under other
 *		fingerprint rules under the hashes the rules in force give the same
 *		plans, as the store observes them.
 *
 * Sits above the baseline (baseline.c) and the store (store.c).
 *
 * IDENTIFICATION
 *		src/rekey.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_REKEY_H
#define GUARD_REKEY_H

#include "fmgr.h"

extern PGDLLEXPORT Datum guard_rekey(PG_FUNCTION_ARGS);

#endif							/* GUARD_REKEY_H */
