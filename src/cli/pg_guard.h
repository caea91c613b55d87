/*-------------------------------------------------------------------------
 *
 * pg_guard.h
 *		pg_guard, guard's command-line tool: shared declarations.
 *
 * A frontend program (libpq, libyaml): it never links with the server.
 * pg_guard.c parses the command line and connects; baseline.c holds the
 * baseline commands (export, import, diff) and the baseline's YAML model;
 * yamlio.c is the only file that includes <yaml.h>.
 *
 * Exit status: 0 clean, 1 regressions (or, for diff, changes) found,
 * 2 usage, connection or input error (doc/pg_guard.md).
 *
 * IDENTIFICATION
 *		src/cli/pg_guard.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_GUARD_H
#define PG_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "libpq-fe.h"

#define PG_GUARD_VERSION "0.6"

/*
 * The alias of the first column of every query pg_guard sends, so that
 * check leaves pg_guard's own statements out of what it judges.
 */
#define PG_GUARD_MARK	"pg_guard_internal"

#define EXIT_CLEAN		0
#define EXIT_FOUND		1
#define EXIT_TROUBLE	2

/* limits of what an input file may hold */
#define MAX_INPUT_BYTES		(256 * 1024 * 1024)
#define MAX_TEXT_BYTES		(1024 * 1024)	/* a query, a plan or a note */
#define MAX_STATS_TEXT_BYTES (64 * 1024 * 1024)	/* a profile's array of values */
#define MAX_NAME_BYTES		4096	/* a relation name as a shape writes it */
#define MAX_ENTRIES			200000
#define MAX_DEPTH			8	/* of nested collections */

/* The options of a command: which it takes, and their values */
typedef struct CommandOptions
{
	bool		takes_output;
	bool		takes_replace;
	bool		takes_check;	/* --baseline, --format, --min-rows */
	char	   *output;
	bool		replace;
	char	   *baseline;
	char	   *format;
	char	   *config;
	long		min_rows;		/* -1: the server's guard.seqscan_min_rows */
	bool		takes_schema;	/* -n (stats export) */
	char	  **schemas;
	int			nschemas;
	bool		takes_growth;	/* --growth (stats import, check) */
	char	   *growth;			/* as given, checked: a number in (0, 1000000] */
	bool		takes_enable;	/* --enable (stats import) */
	bool		enable;
	char	   *stats;			/* --stats FILE (check) */
	char	  **no_values;		/* --no-values-for NAME (stats export) */
	int			nno_values;
} CommandOptions;

/* A growing string (malloc'd, always NUL-terminated once written to) */
typedef struct GrowBuf
{
	char	   *data;
	size_t		len;
	size_t		size;
} GrowBuf;

/* pg_guard.c */
extern const char *progname;
extern void growbuf_put(void *buf, const char *s, size_t n);
extern int	parse_command_options(int argc, char **argv, const char *command,
								  CommandOptions *o);
extern void pg_fatal_usage(const char *fmt,...) __attribute__((format(printf, 1, 2), noreturn));
extern void pg_fatal_input(const char *fmt,...) __attribute__((format(printf, 1, 2), noreturn));
extern void *pg_malloc0_or_die(size_t size);
extern char *pg_strdup_or_die(const char *s);
extern PGconn *connect_database(void);
extern const char *server_message(PGconn *conn, const PGresult *res);
extern void write_file_atomically(const char *path, void (*writer) (FILE *out, const void *arg),
								  const void *arg);

/* One decision of a baseline file, as text (NULL: null in the file) */
typedef struct BaselineEntry
{
	int64_t		query_hash;
	int64_t		plan_hash;
	int			rules;			/* fingerprint_rules */
	char	   *status;			/* "approved" or "rejected" */
	char	   *note;
	char	   *created_by;
	char	   *created_at;		/* ISO 8601, UTC */
	char	   *expires_at;
	char	   *query_role;
	char	   *query;
	char	   *plan;
	int			line;			/* where the entry starts in its file (1-based) */
	int			column;
} BaselineEntry;

typedef struct Baseline
{
	BaselineEntry *entries;
	int			n;
} Baseline;

/* An ignore rule of the check's config file */
typedef struct IgnoreRule
{
	bool		has_hash;
	int64_t		query_hash;		/* the statement, by hash ... */
	char	   *query;			/* ... or by text (up to $n numbering) */
	char	   *owner;
	char	   *expires;		/* YYYY-MM-DD: applies up to that day (UTC) */
	char	   *reason;
	bool		expired;
} IgnoreRule;

/* The check's config file (doc/pg_guard.md, "guard-check") */
typedef struct CheckConfig
{
	long		min_rows;		/* -1: not set */
	char	  **must_not_seqscan;
	int			nmust_not;
	char	  **allow_seqscan;
	int			nallow;
	IgnoreRule *ignore;
	int			nignore;
} CheckConfig;

/*
 * A statistics profile file ("guard-stats", doc/statistics-profile.md):
 * every value as the text the server printed (NULL: null), so that it
 * loads into any server exactly.
 */
#define STATS_REL_FIELDS 8		/* schema, name, kind, reltuples, relpages,
								 * relallvisible, curpages, tree_height */
#define STATS_COL_FIELDS 16		/* name, inherited, type, null_frac, ... */

typedef struct StatsColumn
{
	char	   *f[STATS_COL_FIELDS];
	int			line;
	int			column;
} StatsColumn;

typedef struct StatsRelation
{
	char	   *f[STATS_REL_FIELDS];
	StatsColumn *cols;
	int			ncols;
	int			line;
	int			column;
} StatsRelation;

typedef struct StatsProfile
{
	char	   *source;
	char	   *server_version;
	char	   *exported_at;
	StatsRelation *rels;
	int			nrels;
} StatsProfile;

extern const char *const stats_rel_fields[STATS_REL_FIELDS];
extern const char *const stats_col_fields[STATS_COL_FIELDS];

/* stats.c */
extern int	cmd_stats_export(int argc, char **argv);
extern int	cmd_stats_import(int argc, char **argv);
extern void stats_import_into(PGconn *conn, const char *path, const char *growth,
							  bool enable);
extern void stats_sort(StatsProfile *p);

/* baseline.c */
extern void check_extension(PGconn *conn, int min_minor, const char *what);
extern int	cmd_baseline_export(int argc, char **argv);
extern int	cmd_baseline_import(int argc, char **argv);
extern int	cmd_diff(int argc, char **argv);
extern int	plan_seqscans(const char *plan, char ***names);
extern void free_names(char **names, int n);

/* check.c */
extern int	cmd_check(int argc, char **argv);
extern void baseline_sort(Baseline *b);

/* yamlio.c */
extern void yaml_write_baseline(FILE *out, const Baseline *b);
extern void yaml_read_baseline(const char *path, Baseline *b);
extern void baseline_free(Baseline *b);
extern void yaml_read_check_config(const char *path, CheckConfig *c);
extern void check_config_free(CheckConfig *c);
extern void yaml_write_stats(FILE *out, const StatsProfile *p);
extern void yaml_read_stats(const char *path, StatsProfile *p);
extern void stats_free(StatsProfile *p);

#endif							/* PG_GUARD_H */
