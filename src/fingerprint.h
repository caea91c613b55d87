/*-------------------------------------------------------------------------
 *
 * fingerprint.h
 *		Pure functions from trees to hashes and texts (fingerprint.c,
 *		normalize.c), and the carrier that keeps a fingerprint inside its
 *		PlannedStmt.  No locks, no I/O, no shared state.
 *
 * IDENTIFICATION
 *		src/fingerprint.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_FINGERPRINT_H
#define GUARD_FINGERPRINT_H

#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"

#include "guard.h"

/* A relation read by a sequential scan, with its planner size estimate. */
typedef struct GuardSeqScan
{
	Oid			relid;			/* valid at plan time only */
	char	   *relname;		/* schema-qualified, quoted as needed */
	double		rows;			/* estimated rows of the whole relation */
} GuardSeqScan;

/* Texts describing a plan, built on first sight */
typedef struct GuardPlanTexts
{
	char	   *query;			/* normalized statement text */
	char	   *plan;			/* plan shape */
	int			nseqscans;
	GuardSeqScan *seqscans;
} GuardPlanTexts;

/* A base relation's size as the planner estimated it (get_relation_info) */
typedef struct GuardRelSize
{
	Oid			relid;
	double		tuples;
} GuardRelSize;

/* fingerprint.c */
extern uint64 guard_query_hash(Query *query, bool *has_params,
							   int **const_locations, int *nconsts,
							   bool *maybe_andor, int *locs_buf,
							   int locs_buf_size);
extern uint64 guard_plan_hash(PlannedStmt *pstmt, List **seqscanned);
extern char *guard_plan_shape(PlannedStmt *pstmt);
extern int	guard_plan_seqscans(PlannedStmt *pstmt, const GuardRelSize *sizes,
								int nsizes, GuardSeqScan **result);
extern void guard_fingerprint_attach(PlannedStmt *pstmt,
									 const GuardFingerprint *fp);
extern bool guard_fingerprint_get(PlannedStmt *pstmt, GuardFingerprint *fp);
extern void guard_carrier_attach(PlannedStmt *pstmt, const char *data, int len);
extern char *guard_carrier_get(PlannedStmt *pstmt, int *len);

/* normalize.c */
/* the text stored for a statement whose source text is not available */
#define GUARD_NO_SOURCE_TEXT "<statement without source text>"
extern char *guard_normalize_query(const char *query, int query_loc,
								   int query_len, const int *locations,
								   int nlocations);
extern char *guard_normalize_query_checked(const char *query, int query_loc,
										   int query_len, const int *locations,
										   int nlocations, bool *consistent);
extern char *guard_statement_text(const char *query, int query_loc,
								  int query_len);
extern char *guard_clip_text(char *s, int len);
extern bool guard_text_maybe_clipped(const char *s);
extern void guard_text_params_unnumbered(const char *text, StringInfo out);
extern bool guard_same_but_params(const char *a, const char *b);

/* incidents keep their query and plan clipped at this many bytes (with NUL) */
#define GUARD_INCIDENT_TEXT	2048

/* namecache.c: portable names of objects by OID, cached per backend */
extern void guard_namecache_init(void);
extern char *guard_relname_text(Oid relid);
extern char *guard_name_text(const char *quoted);

#endif							/* GUARD_FINGERPRINT_H */
