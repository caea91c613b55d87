/*-------------------------------------------------------------------------
 *
 * sqlfuncs.h
 *		Helpers of the SQL-callable functions (sqlfuncs.c) that other
 *		SQL-callable files (replan.c) share.
 *
 * IDENTIFICATION
 *		src/sqlfuncs.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_SQLFUNCS_H
#define GUARD_SQLFUNCS_H

#include "fingerprint.h"

extern Datum guard_seqscans_names(const GuardSeqScan *s, int n);
extern Datum guard_seqscans_rows(const GuardSeqScan *s, int n);

#endif							/* GUARD_SQLFUNCS_H */
