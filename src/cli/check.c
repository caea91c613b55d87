/*-------------------------------------------------------------------------
 *
 * check.c
 *		pg_guard check: the statements a database observed (guard.plans:
 *		the application's test suite ran against staging with guard
 *		loaded), judged against a reviewed baseline file.
 *
 * Each executed plan of the database is one of:
 *	- unchanged: the baseline approves this plan;
 *	- changed: the statement has approved plans, and this one reads no large
 *	  relation sequentially that they did not;
 *	- new: the statement is not in the baseline and reads no large relation
 *	  sequentially;
 *	- regression: a plan the baseline rejects; a changed plan that reads a
 *	  large relation sequentially where the approved plans did not (the
 *	  index access became a seq scan); a new statement that reads a large
 *	  relation sequentially (the lost-parentheses release).
 * "Large": at least --min-rows rows by the planner's estimate recorded when
 * the plan was made (default: the server's guard.seqscan_min_rows).  A
 * statement sent with literal values and its prepared form are one
 * statement: they are matched by their texts up to $n numbering.
 *
 * Output: text (default), json or junit; exit status 1 if any regression.
 *
 * IDENTIFICATION
 *		src/cli/check.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "pg_guard.h"
#include "../textparams.h"

/*
 * pg_guard's own queries, left out of what the check judges: each names
 * its first column PG_GUARD_MARK (a leading comment is not kept in the
 * stored text on every major).
 */
#define CHECK_MARK PG_GUARD_MARK

typedef enum Verdict
{
	V_UNCHANGED,
	V_CHANGED,
	V_NEW,
	V_REGRESSION,
	V_IGNORED,					/* a regression an ignore rule in force covers */
	V_SKIPPED					/* a statement of a SQL file that was not planned */
} Verdict;

#define NVERDICTS 6

static const char *const verdict_names[] = {"unchanged", "changed", "new", "regression",
"ignored", "skipped"};

/* One observed plan and what the check makes of it */
typedef struct Observed
{
	int64_t		query_hash;
	int64_t		plan_hash;
	char	   *query;
	char	   *plan;
	char	  **seqscans;		/* relations read by Seq Scan ... */
	long long  *rows;			/* ... with their estimated rows */
	int			nseqscans;
	Verdict		verdict;
	char	   *reason;
	const char *relation;		/* the large relation of a regression */
	long long	relation_rows;
	const BaselineEntry *baseline;	/* the approved plan it replaced, if any */
	bool		sibling;		/* ... found as the statement it most likely replaced */
	bool		same_words;		/* ... by its relations and columns, not its parentheses */
	bool		rejected;		/* the baseline rejects this very plan */
	const char *file;			/* from a SQL file: where (else NULL) */
	int			line;
} Observed;

/*
 * The statistics profile the check's statements were planned under (the
 * session's guard.stats_profile), and what fell back to the database's
 * own statistics (guard.stats_profile_fallbacks).
 */
typedef struct ProfileFallback
{
	char	   *kind;			/* "relation" or "column" */
	char	   *name;			/* schema.relation[.column] */
	char	   *reason;
} ProfileFallback;

static struct
{
	char	   *source;			/* NULL: planned without a profile */
	ProfileFallback *fallbacks;
	int			nfallbacks;
} profile;

static void
puts_text(GrowBuf *t, const char *s)
{
	growbuf_put(t, s, strlen(s));
}

/* the text of a statement up to its $n numbering (malloc'd) */
static char *
unnumbered(const char *query)
{
	GrowBuf		t = {0};

	growbuf_put(&t, "", 0);
	guard_params_unnumbered(query, growbuf_put, &t);
	return t.data;
}

/*
 * without_parens: text up to $n numbering, without parentheses and with
 * blanks collapsed: two statements equal so differ only in how they are
 * parenthesized (the release that lost a pair of parentheses).
 */
static char *
without_parens(const char *query)
{
	char	   *u = unnumbered(query);
	char	   *p;
	char	   *q = u;
	bool		blank = false;

	for (p = u; *p; p++)
	{
		if (*p == '(' || *p == ')')
			continue;
		if (isspace((unsigned char) *p))
		{
			blank = true;
			continue;
		}
		if (blank && q > u)
			*q++ = ' ';
		blank = false;
		*q++ = *p;
	}
	*q = '\0';
	return u;
}

/*
 * find_sibling: for a statement new to the baseline, the approved
 * statement it most likely replaced: one whose text differs only in
 * parentheses (the lost-parentheses release); NULL if none.
 */
static const BaselineEntry *
find_sibling(const Observed *o, const Baseline *b)
{
	char	   *mine;
	const BaselineEntry *found = NULL;
	int			i;

	if (o->query == NULL)
		return NULL;
	mine = without_parens(o->query);
	for (i = 0; i < b->n && found == NULL; i++)
	{
		const BaselineEntry *e = &b->entries[i];
		char	   *theirs;

		if (e->query == NULL || strcmp(e->status, "approved") != 0)
			continue;
		theirs = without_parens(e->query);
		if (strcmp(mine, theirs) == 0)
			found = e;
		free(theirs);
	}
	free(mine);
	return found;
}

/* words that are SQL, not names: left out of a statement's names */
static const char *const sql_words[] = {
	"all", "and", "any", "array", "as", "asc", "between", "by", "case", "cast", "coalesce",
	"cross", "current_date", "current_timestamp", "date", "delete", "desc", "distinct", "do",
	"else", "end", "except", "exists", "extract", "false", "fetch", "filter", "first", "for",
	"from", "full", "group", "having", "ilike", "in", "inner", "insert", "interval", "intersect",
	"into", "is", "isnull", "join", "last", "lateral", "left", "like", "limit", "natural",
	"not", "notnull", "nothing", "null", "nulls", "offset", "on", "only", "or", "order",
	"outer", "over", "partition", "returning", "right", "row", "rows", "select", "set",
	"similar", "some", "then", "time", "timestamp", "true", "union", "unknown", "update",
	"using", "values", "when", "where", "window", "with", NULL
};

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *) x, *(char *const *) y);
}

/*
 * names_of: the names a statement uses (relations, columns, functions),
 * lowercased unless quoted, sorted and unique, as one string separated by
 * spaces; literals, parameters, numbers and SQL words left out.  Two
 * statements with the same names read the same relations and columns.
 */
static char *
names_of(const char *query)
{
	char	  **words = NULL;
	int			n = 0;
	int			max = 0;
	const char *p = query;
	GrowBuf		out = {0};

	growbuf_put(&out, "", 0);
	while (*p)
	{
		const char *start = p;
		char	   *w = NULL;

		if (*p == '\'')
		{
			for (p++; *p && !(*p == '\'' && p[1] != '\''); p += (*p == '\'') ? 2 : 1)
				;
			if (*p)
				p++;
			continue;
		}
		if (p[0] == '-' && p[1] == '-')
		{
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (*p == '"')
		{
			for (p++; *p && !(*p == '"' && p[1] != '"'); p += (*p == '"') ? 2 : 1)
				;
			if (*p)
				p++;
			w = strndup(start, p - start);
		}
		else if (isalpha((unsigned char) *p) || *p == '_' || ((unsigned char) *p & 0x80))
		{
			while (GUARD_IDENT_CHAR(*p) || *p == '$')
				p++;
			w = strndup(start, p - start);
			if (w != NULL)
			{
				bool		keyword = false;

				for (char *c = w; *c; c++)
					*c = tolower((unsigned char) *c);
				for (int k = 0; sql_words[k]; k++)
					if (strcmp(w, sql_words[k]) == 0)
						keyword = true;
				if (keyword)
				{
					free(w);
					continue;
				}
			}
		}
		else
		{
			if (*p == '$' || isdigit((unsigned char) *p))
				while (GUARD_IDENT_CHAR(*p) || *p == '$' || *p == '.')
					p++;
			else
				p++;
			continue;
		}
		if (w == NULL)
			pg_fatal_input("out of memory");
		if (n >= max)
		{
			max = max ? max * 2 : 32;
			words = realloc(words, sizeof(char *) * max);
			if (words == NULL)
				pg_fatal_input("out of memory");
		}
		words[n++] = w;
	}
	if (n > 0)
		qsort(words, n, sizeof(char *), cmp_str);
	for (int i = 0; i < n; i++)
	{
		if (i == 0 || strcmp(words[i], words[i - 1]) != 0)
		{
			puts_text(&out, words[i]);
			puts_text(&out, " ");
		}
		free(words[i]);
	}
	free(words);
	return out.data;
}

/*
 * find_replaced: for a statement new to the baseline that no approved
 * statement matches up to parentheses, the approved statement that uses
 * exactly the same names (relations, columns, functions): the text it
 * most likely replaced, e.g. a condition rewritten around the same
 * columns.  NULL if none, or if several do (no guess).
 */
static char **baseline_names = NULL;	/* names_of each baseline entry */

static const BaselineEntry *
find_replaced(const Observed *o, const Baseline *b)
{
	char	   *mine;
	const BaselineEntry *found = NULL;
	int			nfound = 0;

	if (o->query == NULL)
		return NULL;
	/* the baseline's names, once for all the statements of the check */
	if (baseline_names == NULL)
	{
		baseline_names = pg_malloc0_or_die(sizeof(char *) * (b->n + 1));
		for (int i = 0; i < b->n; i++)
			baseline_names[i] = b->entries[i].query ? names_of(b->entries[i].query) : NULL;
	}
	mine = names_of(o->query);
	for (int i = 0; i < b->n && nfound < 2; i++)
	{
		const BaselineEntry *e = &b->entries[i];

		if (e->query == NULL || strcmp(e->status, "approved") != 0)
			continue;
		if (found != NULL && e->query_hash == found->query_hash)
			continue;			/* another plan of the same statement */
		if (mine[0] != '\0' && strcmp(mine, baseline_names[i]) == 0)
		{
			found = e;
			nfound++;
		}
	}
	free(mine);
	return nfound == 1 ? found : NULL;
}

/*
 * read_profile: whether the session plans under a statistics profile,
 * and what falls back (needs to read guard's profile tables: a superuser).
 */
static void
read_profile(PGconn *conn)
{
	/* pg_guard's queries start "SELECT NULL AS pg_guard_internal": never judged */
	PGresult   *res = PQexec(conn,
							 "SELECT NULL AS " CHECK_MARK ", "
							 "       pg_catalog.current_setting('guard.stats_profile', true), "
							 "       pg_catalog.to_regclass('guard.stats_profile') IS NOT NULL "
							 "       AND pg_catalog.has_table_privilege('guard.stats_profile', 'SELECT')");

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		pg_fatal_input("could not read guard.stats_profile: %s", server_message(conn, res));
	if (PQgetisnull(res, 0, 1) || strcmp(PQgetvalue(res, 0, 1), "on") != 0)
	{
		PQclear(res);
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 2), "t") != 0)
	{
		/* the plans are still judged; only the report of the profile needs a superuser */
		profile.source = pg_strdup_or_die("(guard.stats_profile is on; the profile needs a superuser to be read)");
		profile.fallbacks = pg_malloc0_or_die(sizeof(ProfileFallback));
		PQclear(res);
		return;
	}
	PQclear(res);
	res = PQexec(conn,
				 "SELECT NULL AS " CHECK_MARK ", source || CASE WHEN exported_at IS NULL THEN '' "
				 "       ELSE ', exported ' || pg_catalog.to_char(exported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC' END "
				 "       || CASE WHEN growth = 1 THEN '' ELSE ', growth ' || growth END "
				 "  FROM guard.stats_profile");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		pg_fatal_input("could not read guard.stats_profile: %s", server_message(conn, res));
	if (PQntuples(res) == 0)
	{
		PQclear(res);
		return;					/* on, but nothing imported: no profile */
	}
	profile.source = pg_strdup_or_die(PQgetvalue(res, 0, 1));
	PQclear(res);
	res = PQexec(conn,
				 "SELECT NULL AS " CHECK_MARK ", kind, pg_catalog.concat_ws('.', schemaname, relname, attname), reason "
				 "  FROM guard.stats_profile_fallbacks ORDER BY schemaname, relname, kind DESC, attname");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		pg_fatal_input("could not read guard.stats_profile_fallbacks: %s", server_message(conn, res));
	profile.nfallbacks = PQntuples(res);
	profile.fallbacks = pg_malloc0_or_die(sizeof(ProfileFallback) * (profile.nfallbacks + 2));
	for (int i = 0; i < profile.nfallbacks; i++)
	{
		profile.fallbacks[i].kind = pg_strdup_or_die(PQgetvalue(res, i, 1));
		profile.fallbacks[i].name = pg_strdup_or_die(PQgetvalue(res, i, 2));
		profile.fallbacks[i].reason = pg_strdup_or_die(PQgetvalue(res, i, 3));
	}
	PQclear(res);

	/* a value that no longer loads (an enum label renamed since the import) */
	res = PQexec(conn, "SELECT NULL AS " CHECK_MARK ", guard.stats_profile_check()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		const char *context = PQresultErrorField(res, PG_DIAG_CONTEXT);
		const char *from = context ? strstr(context, "statistics of column ") : NULL;
		char		name[512];
		char		reason[1024];

		snprintf(name, sizeof(name), "%s", from ? from + strlen("statistics of column ") : "(a column)");
		if (strstr(name, " in the statistics profile"))
			*strstr(name, " in the statistics profile") = '\0';
		/* not the server's message: it may quote a production value */
		snprintf(reason, sizeof(reason), "its statistics no longer load (SQLSTATE %s; SELECT guard.stats_profile_check() says why)",
				 PQresultErrorField(res, PG_DIAG_SQLSTATE) ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : "?");
		profile.fallbacks[profile.nfallbacks].kind = pg_strdup_or_die("column");
		profile.fallbacks[profile.nfallbacks].name = pg_strdup_or_die(name);
		profile.fallbacks[profile.nfallbacks].reason = pg_strdup_or_die(reason);
		profile.nfallbacks++;
	}
	PQclear(res);
}

/*
 * own_statement: is this stored text one of pg_guard's own queries?  They
 * all read "SELECT <one term> AS pg_guard_internal" then "," or " ": an
 * exact test, not a LIKE (whose "_" would match any character).
 */
static bool
own_statement(const char *query)
{
	const char *p = query;
	static const char mark[] = " AS " PG_GUARD_MARK;

	if (strncmp(p, "SELECT ", 7) != 0)
		return false;
	p += 7;
	while (*p && *p != ' ')
		p++;
	if (strncmp(p, mark, sizeof(mark) - 1) != 0)
		return false;
	p += sizeof(mark) - 1;
	return *p == ',' || *p == ' ' || *p == '\0';
}

/* split a newline-separated list (array_to_string) */
static int
split_lines(const char *s, char ***out)
{
	int			n = 0;
	const char *p = s;

	*out = NULL;
	while (p && *p)
	{
		const char *eol = strchr(p, '\n');
		size_t		len = eol ? (size_t) (eol - p) : strlen(p);
		char	   *item = pg_malloc0_or_die(len + 1);

		memcpy(item, p, len);
		*out = realloc(*out, sizeof(char *) * (n + 1));
		if (*out == NULL)
			pg_fatal_input("out of memory");
		(*out)[n++] = item;
		p = eol ? eol + 1 : NULL;
	}
	return n;
}

/*
 * fill_observed: hashes (columns 0, 1), plan, seqscans and their rows
 * (columns plan_col .. plan_col + 2) of result row r.
 */
static void
fill_observed(Observed *o, PGresult *res, int r, int plan_col)
{
	char	  **rows;
	int			nrows;
	int			j;

	o->query_hash = strtoll(PQgetvalue(res, r, 0), NULL, 10);
	o->plan_hash = strtoll(PQgetvalue(res, r, 1), NULL, 10);
	o->plan = PQgetisnull(res, r, plan_col) ? NULL :
		pg_strdup_or_die(PQgetvalue(res, r, plan_col));
	o->nseqscans = split_lines(PQgetvalue(res, r, plan_col + 1), &o->seqscans);
	nrows = split_lines(PQgetvalue(res, r, plan_col + 2), &rows);
	o->rows = pg_malloc0_or_die(sizeof(long long) * (o->nseqscans + 1));
	for (j = 0; j < o->nseqscans && j < nrows; j++)
		o->rows[j] = strtoll(rows[j], NULL, 10);
	free_names(rows, nrows);
}

/*
 * canonical_names: the config's relation names as shapes write them (the
 * relation's own quoting; a partition as its root table, which is how a
 * plan counts it); a name that is no relation of the database is an error
 * (a typo would silently match nothing).
 */
static void
canonical_names(PGconn *conn, const char *config, char **names, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		const char *values[1] = {names[i]};
		PGresult   *res = PQexecParams(conn,
									   "SELECT pg_catalog.quote_ident(n.nspname) || '.' || "
									   "       pg_catalog.quote_ident(c.relname) AS " PG_GUARD_MARK
									   "  FROM pg_catalog.pg_class c "
									   "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
									   " WHERE c.oid = coalesce(pg_catalog.pg_partition_root(pg_catalog.to_regclass($1)), "
									   "                        pg_catalog.to_regclass($1))",
									   1, NULL, values, NULL, NULL, 0);

		if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
			pg_fatal_input("%s: \"%s\" is no relation of database \"%s\"%s%s", config,
						   names[i], PQdb(conn),
						   PQresultStatus(res) != PGRES_TUPLES_OK ? ": " : "",
						   PQresultStatus(res) != PGRES_TUPLES_OK ? server_message(conn, res) : "");
		free(names[i]);
		names[i] = pg_strdup_or_die(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
}

/*
 * server_allow_seqscan: the server's guard.allow_seqscan (readable by
 * superusers) joins the config's allowed seq scans, as the server's judge
 * never flags them either.
 */
static void
server_allow_seqscan(PGconn *conn, CheckConfig *cfg)
{
	PGresult   *res = PQexec(conn, "SELECT pg_catalog.current_setting('guard.allow_seqscan') AS " PG_GUARD_MARK);
	char	   *list;
	char	   *tok;
	char	   *save;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		PQclear(res);
		return;
	}
	list = pg_strdup_or_die(PQgetvalue(res, 0, 0));
	PQclear(res);
	for (tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
	{
		cfg->allow_seqscan = realloc(cfg->allow_seqscan, sizeof(char *) * (cfg->nallow + 1));
		if (cfg->allow_seqscan == NULL)
			pg_fatal_input("out of memory");
		cfg->allow_seqscan[cfg->nallow++] = pg_strdup_or_die(tok);
	}
	free(list);
}

static long
server_min_rows(PGconn *conn)
{
	PGresult   *res = PQexec(conn, "SELECT pg_catalog.current_setting('guard.seqscan_min_rows') AS " CHECK_MARK);
	long		v = 10000;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

/*
 * expired: is the time t of a baseline file (as yamlio.c's check_time
 * accepts it) before now?  infinity never is, -infinity always is.
 */
static bool
expired(const char *t)
{
	struct tm	tm;
	int			off_h = 0;
	int			off_m = 0;
	char		sign = '+';
	const char *p;
	time_t		when;

	if (t == NULL || strcmp(t, "infinity") == 0)
		return false;
	if (strcmp(t, "-infinity") == 0 || strstr(t, " BC") != NULL)
		return true;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(t, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
		return false;
	p = t + 10;
	if (*p == 'T' || *p == ' ')
	{
		sscanf(p + 1, "%2d:%2d:%2d", &tm.tm_hour, &tm.tm_min, &tm.tm_sec);
		p += 9;
		while (*p == '.' || isdigit((unsigned char) *p))
			p++;
		if (*p == '+' || *p == '-')
		{
			sign = *p;
			sscanf(p + 1, "%2d:%2d", &off_h, &off_m);
			if (off_m == 0 && isdigit((unsigned char) p[3]))
				sscanf(p + 3, "%2d", &off_m);
		}
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	when = timegm(&tm) - (sign == '-' ? -1 : 1) * (off_h * 3600 + off_m * 60);
	return when <= time(NULL);
}

/* does one of the approved plans of entries read relation rel by Seq Scan? */
static bool
approved_reads(const Baseline *b, int *idx, int nidx, const char *rel)
{
	int			i;

	for (i = 0; i < nidx; i++)
	{
		const BaselineEntry *e = &b->entries[idx[i]];
		char	  **names;
		int			n;
		int			k;
		bool		found = false;

		if (strcmp(e->status, "approved") != 0 || e->plan == NULL)
			continue;
		n = plan_seqscans(e->plan, &names);
		for (k = 0; k < n; k++)
			if (strcmp(names[k], rel) == 0)
				found = true;
		free_names(names, n);
		if (found)
			return true;
	}
	return false;
}

/*
 * judge: o against the baseline.  stmt[0..nstmt) are the baseline entries
 * of o's statement (same query_hash, or the same text up to $n numbering).
 */
static bool
listed(char **names, int n, const char *rel)
{
	int			i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], rel) == 0)
			return true;
	return false;
}

static void
judge(Observed *o, const Baseline *b, int *stmt, int nstmt, long min_rows,
	  const CheckConfig *cfg)
{
	int			i;
	int			k;
	char		buf[512];

	for (i = 0; i < nstmt; i++)
	{
		const BaselineEntry *e = &b->entries[stmt[i]];
		bool		same = e->plan_hash == o->plan_hash && e->query_hash == o->query_hash;

		/* an alias: the same plan, told by its shape */
		if (!same && e->query_hash != o->query_hash && e->plan != NULL && o->plan != NULL)
			same = strcmp(e->plan, o->plan) == 0;
		if (!same)
			continue;
		if (strcmp(e->status, "rejected") == 0)
		{
			/* after its expiry a rejection is no decision (sql-api.md) */
			if (expired(e->expires_at))
				continue;
			o->verdict = V_REGRESSION;
			o->rejected = true;
			o->reason = pg_strdup_or_die("the baseline rejects this plan");
			o->baseline = e;
			return;
		}
		o->verdict = V_UNCHANGED;
		return;
	}
	for (i = 0; i < nstmt; i++)
		if (strcmp(b->entries[stmt[i]].status, "approved") == 0 && o->baseline == NULL)
			o->baseline = &b->entries[stmt[i]];

	for (k = 0; k < o->nseqscans; k++)
	{
		bool		must_not = listed(cfg->must_not_seqscan, cfg->nmust_not, o->seqscans[k]);

		if (listed(cfg->allow_seqscan, cfg->nallow, o->seqscans[k]))
			continue;
		if (o->rows[k] < min_rows && !must_not)
			continue;
		if (nstmt > 0 && approved_reads(b, stmt, nstmt, o->seqscans[k]))
			continue;
		o->verdict = V_REGRESSION;
		o->relation = o->seqscans[k];
		o->relation_rows = o->rows[k];
		if (o->baseline == NULL && (o->baseline = find_sibling(o, b)) != NULL)
			o->sibling = true;
		else if (o->baseline == NULL && (o->baseline = find_replaced(o, b)) != NULL)
			o->sibling = o->same_words = true;
		if (must_not && o->rows[k] < min_rows)
			snprintf(buf, sizeof(buf),
					 "reads %s (about %lld rows) sequentially, which the config says must never be",
					 o->relation, o->relation_rows);
		else if (o->baseline != NULL && !o->sibling)
			snprintf(buf, sizeof(buf),
					 "a new sequential scan of %s (about %lld rows), which the approved plan reads otherwise",
					 o->relation, o->relation_rows);
		else
			snprintf(buf, sizeof(buf),
					 "a statement new to the baseline reads %s (about %lld rows) sequentially",
					 o->relation, o->relation_rows);
		if (o->sibling)
		{
			char		more[sizeof(buf)];

			if (o->same_words)
				snprintf(more, sizeof(more),
						 "%s; it uses the same relations and columns as an approved statement (query_hash %" PRId64 "), which it most likely replaced",
						 buf, o->baseline->query_hash);
			else
				snprintf(more, sizeof(more),
						 "%s; it differs from an approved statement only in parentheses (query_hash %" PRId64 "): a lost pair of parentheses?",
						 buf, o->baseline->query_hash);
			strcpy(buf, more);
		}
		o->reason = pg_strdup_or_die(buf);
		return;
	}
	o->verdict = nstmt > 0 ? V_CHANGED : V_NEW;
}

static void
first_line(GrowBuf *t, const char *s)
{
	size_t		n = s ? strcspn(s, "\n") : 0;

	if (s == NULL)
	{
		puts_text(t, "(no statement text)");
		return;
	}
	growbuf_put(t, s, n);
	if (s[n])
		puts_text(t, " ...");
}

static const char *
ignored_note(int n)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), ", %d ignored", n);
	return buf;
}

/* text: regressions first, with both plans, then one line per other plan */
static void
report_text(FILE *out, Observed *obs, int n, const char *baseline, int counts[NVERDICTS])
{
	int			pass;
	int			i;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++)
		{
			Observed   *o = &obs[i];
			GrowBuf		t = {0};

			if ((pass == 0) != (o->verdict == V_REGRESSION))
				continue;
			growbuf_put(&t, "", 0);
			first_line(&t, o->query);
			fprintf(out, "%-10s %" PRId64 " %" PRId64 "  %s\n", verdict_names[o->verdict],
					o->query_hash, o->plan_hash, t.data);
			free(t.data);
			if (o->verdict == V_IGNORED || o->verdict == V_SKIPPED)
			{
				if (o->file != NULL)
					fprintf(out, "  where: %s:%d\n", o->file, o->line);
				fprintf(out, "  why: %s\n", o->reason);
			}
			if (o->verdict != V_REGRESSION)
				continue;
			if (o->file != NULL)
				fprintf(out, "  where: %s:%d\n", o->file, o->line);
			fprintf(out, "  why: %s\n", o->reason);
			fprintf(out, "  statement:\n    %s\n", o->query ? o->query : "(no text)");
			fprintf(out, "  plan now:\n");
			{
				const char *p = o->plan ? o->plan : "(no shape)";

				while (*p)
				{
					size_t		len = strcspn(p, "\n");

					fprintf(out, "    %.*s\n", (int) len, p);
					p += len + (p[len] ? 1 : 0);
				}
			}
			if (o->baseline != NULL && o->baseline->plan != NULL)
			{
				const char *p = o->baseline->plan;

				fprintf(out, "  approved plan (%s, query_hash %" PRId64 ", plan_hash %" PRId64 "):\n",
						baseline, o->baseline->query_hash, o->baseline->plan_hash);
				while (*p)
				{
					size_t		len = strcspn(p, "\n");

					fprintf(out, "    %.*s\n", (int) len, p);
					p += len + (p[len] ? 1 : 0);
				}
			}
		}
	fprintf(out, "%d statements: %d unchanged, %d changed, %d new, %d regressions%s",
			n, counts[V_UNCHANGED], counts[V_CHANGED], counts[V_NEW], counts[V_REGRESSION],
			counts[V_IGNORED] ? ignored_note(counts[V_IGNORED]) : "");
	if (counts[V_SKIPPED])
		fprintf(out, ", %d skipped", counts[V_SKIPPED]);
	fputc('\n', out);
	if (profile.source != NULL)
	{
		fprintf(out, "planned under the statistics profile %s", profile.source);
		if (profile.nfallbacks > 0)
			fprintf(out, "; %d keep this database's own statistics:", profile.nfallbacks);
		fputc('\n', out);
		for (int k = 0; k < profile.nfallbacks; k++)
			fprintf(out, "  %s %s: %s\n", profile.fallbacks[k].kind, profile.fallbacks[k].name,
					profile.fallbacks[k].reason);
	}
}

static void
json_string(FILE *out, const char *s)
{
	const unsigned char *p;

	if (s == NULL)
	{
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (p = (const unsigned char *) s; *p; p++)
	{
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void
report_json(FILE *out, Observed *obs, int n, const char *baseline, int counts[NVERDICTS])
{
	int			i;

	fputs("{\"baseline\": ", out);
	json_string(out, baseline);
	fprintf(out, ", \"summary\": {\"statements\": %d, \"unchanged\": %d, \"changed\": %d, \"new\": %d, \"regressions\": %d, \"ignored\": %d, \"skipped\": %d}, \"statements\": [",
			n, counts[V_UNCHANGED], counts[V_CHANGED], counts[V_NEW], counts[V_REGRESSION],
			counts[V_IGNORED], counts[V_SKIPPED]);
	for (i = 0; i < n; i++)
	{
		Observed   *o = &obs[i];
		int			k;

		fprintf(out, "%s\n  {\"verdict\": \"%s\", \"query_hash\": \"%" PRId64 "\", \"plan_hash\": \"%" PRId64 "\", \"query\": ",
				i ? "," : "", verdict_names[o->verdict], o->query_hash, o->plan_hash);
		json_string(out, o->query);
		fputs(", \"plan\": ", out);
		json_string(out, o->plan);
		fputs(", \"seqscans\": [", out);
		for (k = 0; k < o->nseqscans; k++)
		{
			fputs(k ? ", {\"relation\": " : "{\"relation\": ", out);
			json_string(out, o->seqscans[k]);
			fprintf(out, ", \"rows\": %lld}", o->rows[k]);
		}
		fputs("], \"reason\": ", out);
		json_string(out, o->reason);
		fputs(", \"baseline_plan\": ", out);
		json_string(out, o->baseline ? o->baseline->plan : NULL);
		fputs(", \"file\": ", out);
		json_string(out, o->file);
		if (o->file != NULL)
			fprintf(out, ", \"line\": %d", o->line);
		fputc('}', out);
	}
	fputs("\n], \"stats_profile\": ", out);
	if (profile.source == NULL)
		fputs("null", out);
	else
	{
		fputs("{\"source\": ", out);
		json_string(out, profile.source);
		fputs(", \"fallbacks\": [", out);
		for (i = 0; i < profile.nfallbacks; i++)
		{
			fputs(i ? ", {\"kind\": " : "{\"kind\": ", out);
			json_string(out, profile.fallbacks[i].kind);
			fputs(", \"name\": ", out);
			json_string(out, profile.fallbacks[i].name);
			fputs(", \"reason\": ", out);
			json_string(out, profile.fallbacks[i].reason);
			fputc('}', out);
		}
		fputs("]}", out);
	}
	fputs("}\n", out);
}

static void
xml_string(FILE *out, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *) (s ? s : ""); *p; p++)
	{
		if (*p == '<')
			fputs("&lt;", out);
		else if (*p == '>')
			fputs("&gt;", out);
		else if (*p == '&')
			fputs("&amp;", out);
		else if (*p == '"')
			fputs("&quot;", out);
		else if (*p < 0x20 && *p != '\n' && *p != '\t')
			fputc('?', out);	/* not allowed in XML 1.0 */
		else
			fputc(*p, out);
	}
}

/* text for HTML: < > & " escaped */
static void
html_string(FILE *out, const char *s)
{
	for (; s && *s; s++)
	{
		if (*s == '<')
			fputs("&lt;", out);
		else if (*s == '>')
			fputs("&gt;", out);
		else if (*s == '&')
			fputs("&amp;", out);
		else if (*s == '"')
			fputs("&quot;", out);
		else
			fputc(*s, out);
	}
}

/*
 * HTML: one self-contained page (no script, no external resource): the
 * counts, each regression with its reason and the plan now beside the
 * approved plan, then a table of every statement.
 */
static void
report_html(FILE *out, Observed *obs, int n, const char *baseline, int counts[NVERDICTS])
{
	int			i;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		  "<title>pg_guard check</title>\n<style>\n"
		  "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n"
		  "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em}\n"
		  ".counts span{display:inline-block;margin-right:1.5em}\n"
		  ".v{font-weight:bold;padding:0 .4em;border-radius:3px}\n"
		  ".regression{background:#fdd;color:#900}.ignored{background:#ffe9b3;color:#7a5300}\n"
		  ".new{background:#def;color:#035}.changed{background:#eef;color:#336}"
		  ".unchanged{background:#dfd;color:#060}\n"
		  ".finding{border:1px solid #e0b4b4;border-radius:6px;padding:1em;margin:1em 0}\n"
		  ".side{display:grid;grid-template-columns:1fr 1fr;gap:1em}\n"
		  "pre{background:#f6f6f6;padding:.6em;overflow-x:auto;margin:.3em 0}\n"
		  "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.3em .6em;"
		  "text-align:left;vertical-align:top}\n"
		  "</style></head><body>\n<h1>pg_guard check</h1>\n<p>Baseline: <code>", out);
	html_string(out, baseline);
	fprintf(out, "</code></p>\n<p class=\"counts\"><span>%d statements</span>"
			"<span class=\"v unchanged\">%d unchanged</span><span class=\"v changed\">%d changed</span>"
			"<span class=\"v new\">%d new</span><span class=\"v regression\">%d regressions</span>"
			"<span class=\"v ignored\">%d ignored</span></p>\n",
			n, counts[V_UNCHANGED], counts[V_CHANGED], counts[V_NEW], counts[V_REGRESSION],
			counts[V_IGNORED]);
	if (profile.source != NULL)
	{
		fputs("<p class=\"profile\">Planned under the statistics profile <code>", out);
		html_string(out, profile.source);
		fputs("</code>", out);
		if (profile.nfallbacks > 0)
		{
			fprintf(out, "; %d keep this database's own statistics:</p>\n<ul>", profile.nfallbacks);
			for (i = 0; i < profile.nfallbacks; i++)
			{
				fputs("<li>", out);
				html_string(out, profile.fallbacks[i].kind);
				fputs(" <code>", out);
				html_string(out, profile.fallbacks[i].name);
				fputs("</code>: ", out);
				html_string(out, profile.fallbacks[i].reason);
				fputs("</li>", out);
			}
			fputs("</ul>\n", out);
		}
		else
			fputs("</p>\n", out);
	}
	for (i = 0; i < n; i++)
	{
		Observed   *o = &obs[i];

		if (o->verdict != V_REGRESSION && o->verdict != V_IGNORED)
			continue;
		fprintf(out, "<div class=\"finding\"><p><span class=\"v %s\">%s</span> ",
				verdict_names[o->verdict], verdict_names[o->verdict]);
		html_string(out, o->reason);
		if (o->file != NULL)
		{
			fputs(" <small>(", out);
			html_string(out, o->file);
			fprintf(out, ":%d)</small>", o->line);
		}
		fprintf(out, "</p>\n<pre>");
		html_string(out, o->query);
		fprintf(out, "</pre>\n<div class=\"side\"><div><h3>Plan now <small>(plan_hash %" PRId64
				")</small></h3><pre>", o->plan_hash);
		html_string(out, o->plan ? o->plan : "(no shape)");
		fputs("</pre></div><div><h3>Approved plan", out);
		if (o->baseline != NULL)
			fprintf(out, " <small>(plan_hash %" PRId64 ")</small>", o->baseline->plan_hash);
		fputs("</h3>", out);
		if (o->sibling)
		{
			/* the statement it most likely replaced: the text to compare */
			fputs("<pre>", out);
			html_string(out, o->baseline->query);
			fputs("</pre>", out);
		}
		fputs("<pre>", out);
		html_string(out, o->baseline && o->baseline->plan ? o->baseline->plan :
					"(none: the statement is new to the baseline)");
		fputs("</pre></div></div></div>\n", out);
	}
	fputs("<h2>Every statement</h2>\n<table><tr><th>verdict</th><th>query_hash</th>"
		  "<th>plan_hash</th><th>statement</th></tr>\n", out);
	for (i = 0; i < n; i++)
	{
		Observed   *o = &obs[i];
		GrowBuf		t = {0};

		growbuf_put(&t, "", 0);
		first_line(&t, o->query);
		fprintf(out, "<tr><td><span class=\"v %s\">%s</span></td><td>%" PRId64 "</td><td>%" PRId64
				"</td><td><code>", verdict_names[o->verdict], verdict_names[o->verdict],
				o->query_hash, o->plan_hash);
		html_string(out, t.data);
		fputs("</code></td></tr>\n", out);
		free(t.data);
	}
	fputs("</table>\n</body></html>\n", out);
}

/* JUnit: one test case per statement, a failure per regression */
static void
report_junit(FILE *out, Observed *obs, int n, const char *baseline, int counts[NVERDICTS])
{
	int			i;

	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<testsuites>\n<testsuite name=\"pg_guard check\" tests=\"%d\" failures=\"%d\" "
			"errors=\"0\" skipped=\"%d\" time=\"0\">\n",
			n, counts[V_REGRESSION], counts[V_IGNORED] + counts[V_SKIPPED]);
	if (profile.source != NULL)
	{
		fputs("  <properties>\n    <property name=\"stats_profile\" value=\"", out);
		xml_string(out, profile.source);
		fputs("\"/>\n", out);
		for (i = 0; i < profile.nfallbacks; i++)
		{
			fputs("    <property name=\"stats_profile_fallback\" value=\"", out);
			xml_string(out, profile.fallbacks[i].kind);
			fputs(" ", out);
			xml_string(out, profile.fallbacks[i].name);
			fputs(": ", out);
			xml_string(out, profile.fallbacks[i].reason);
			fputs("\"/>\n", out);
		}
		fputs("  </properties>\n", out);
	}
	for (i = 0; i < n; i++)
	{
		Observed   *o = &obs[i];
		GrowBuf		t = {0};

		growbuf_put(&t, "", 0);
		first_line(&t, o->query);
		/* a stable identity across runs: the statement, not its verdict */
		fputs("  <testcase classname=\"pg_guard.check\" name=\"", out);
		if (strlen(t.data) > 200)
			strcpy(t.data + 196, "...");
		xml_string(out, t.data);
		if (o->file != NULL)
		{
			fputs(" (", out);
			xml_string(out, o->file);
			fprintf(out, ":%d)", o->line);
		}
		else
			fprintf(out, " (query_hash %" PRId64 ")", o->query_hash);
		free(t.data);
		fputs("\" time=\"0\">", out);
		if (o->verdict == V_REGRESSION)
		{
			fputs("\n    <failure message=\"", out);
			xml_string(out, o->reason);
			fputs("\">", out);
			xml_string(out, o->query);
			fputs("\n\nplan now:\n", out);
			xml_string(out, o->plan);
			if (o->baseline && o->baseline->plan)
			{
				fputs("\n\napproved plan:\n", out);
				xml_string(out, o->baseline->plan);
			}
			fputs("</failure>\n  ", out);
		}
		else if (o->verdict == V_IGNORED || o->verdict == V_SKIPPED)
		{
			fputs("\n    <skipped message=\"", out);
			xml_string(out, o->reason);
			fputs("\"/>\n  ", out);
		}
		fputs("</testcase>\n", out);
	}
	fputs("</testsuite>\n</testsuites>\n", out);
}

/*
 * A statement of a SQL file: its text and the line it starts on.  The
 * file is split at semicolons outside strings, quoted names, dollar
 * quotes and comments; psql's backslash commands are not understood.
 */
typedef struct FileStatement
{
	char	   *text;
	int			line;
} FileStatement;

static int
split_sql(const char *sql, FileStatement **out)
{
	const char *p = sql;
	const char *start = NULL;
	int			line = 1;
	int			start_line = 1;
	int			n = 0;

	*out = NULL;
	for (;;)
	{
		if (*p == '\0' || *p == ';')
		{
			if (start != NULL)
			{
				size_t		len = p - start;
				char	   *text;

				while (len > 0 && isspace((unsigned char) start[len - 1]))
					len--;
				text = pg_malloc0_or_die(len + 1);

				memcpy(text, start, len);
				*out = realloc(*out, sizeof(FileStatement) * (n + 1));
				if (*out == NULL)
					pg_fatal_input("out of memory");
				(*out)[n].text = text;
				(*out)[n].line = start_line;
				n++;
				start = NULL;
			}
			if (*p == '\0')
				break;
			p++;
			continue;
		}
		if (*p == '\n')
		{
			line++;
			p++;
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f')
		{
			p++;
			continue;
		}
		if (p[0] == '-' && p[1] == '-')
		{
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (p[0] == '/' && p[1] == '*')
		{
			int			depth = 0;

			do
			{
				if (p[0] == '/' && p[1] == '*')
					depth++, p += 2;
				else if (p[0] == '*' && p[1] == '/')
					depth--, p += 2;
				else
					line += (*p++ == '\n');
			} while (*p && depth > 0);
			continue;
		}
		if (start == NULL)
		{
			start = p;
			start_line = line;
		}
		if (*p == '\'' || *p == '"')
		{
			char		q = *p;
			/* E'...': a backslash escapes the next character */
			bool		escapes = q == '\'' && p > sql && (p[-1] == 'E' || p[-1] == 'e') &&
				!(p - 1 > sql && (isalnum((unsigned char) p[-2]) || p[-2] == '_'));

			p++;
			while (*p && !(*p == q && p[1] != q))
			{
				if (escapes && *p == '\\' && p[1])
				{
					line += (p[1] == '\n');
					p += 2;
					continue;
				}
				line += (*p == '\n');
				p += (*p == q) ? 2 : 1;
			}
			if (*p)
				p++;
		}
		else if (*p == '$' && !(p > sql && (isalnum((unsigned char) p[-1]) || p[-1] == '_' ||
											((unsigned char) p[-1] & 0x80))) &&
				 !isdigit((unsigned char) p[1]))
		{
			const char *tag_end = p + 1;

			while (isalnum((unsigned char) *tag_end) || *tag_end == '_' ||
				   ((unsigned char) *tag_end & 0x80))
				tag_end++;
			if (*tag_end == '$')
			{
				size_t		taglen = tag_end - p + 1;
				const char *q = tag_end + 1;

				while (*q && strncmp(q, p, taglen) != 0)
					line += (*q++ == '\n');
				p = *q ? q + taglen : q;
			}
			else
				p++;
		}
		else
			p++;
	}
	return n;
}

static char *
read_file(const char *path)
{
	FILE	   *f;
	char	   *data;
	long		size;
	struct stat st;
	long		i;
	int			line = 1;

	/* a FIFO or a device would be read without end (or block the open) */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		pg_fatal_input("%s: not a regular file", path);
	f = fopen(path, "rb");
	if (f == NULL)
		pg_fatal_input("could not open file \"%s\" for reading: %m", path);
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		pg_fatal_input("could not read file \"%s\": %m", path);
	if (size > MAX_INPUT_BYTES)
		pg_fatal_input("%s: file is too large (at most 256 MB)", path);
	data = pg_malloc0_or_die(size + 1);
	if (size > 0 && fread(data, 1, size, f) != (size_t) size)
		pg_fatal_input("could not read file \"%s\": %m", path);
	fclose(f);
	/* a NUL byte (UTF-16, binary) would end the text there: refused */
	for (i = 0; i < size; i++)
	{
		if (data[i] == '\0')
			pg_fatal_input("%s:%d: a NUL byte (the file is not UTF-8 SQL)", path, line);
		line += data[i] == '\n';
	}
	/* a UTF-8 byte-order mark is no SQL */
	if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		memset(data, ' ', 3);
	return data;
}

/*
 * plan_file_statements: every statement of the SQL file at path planned by
 * guard.explain (never executed), appended to *obs.  A utility statement
 * is skipped; any other error ends the check (exit 2) naming the place.
 */
static void
plan_file_statements(PGconn *conn, const char *path, Observed **obs, int *n)
{
	char	   *sql = read_file(path);
	FileStatement *stmts;
	int			nstmts = split_sql(sql, &stmts);
	int			i;

	for (i = 0; i < nstmts; i++)
	{
		const char *values[1] = {stmts[i].text};
		PGresult   *res = PQexecParams(conn,
									   "SELECT query_hash AS " CHECK_MARK ", plan_hash, plan, "
									   "       array_to_string(seqscans, E'\\n'), "
									   "       array_to_string(seqscan_rows, E'\\n'), "
									   "       pg_catalog.to_jsonb(e) OPERATOR(pg_catalog.->>) 'stats_profile' "
									   "  FROM guard.explain($1) e",
									   1, NULL, values, NULL, NULL, 0);
		int			r;

		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

			if (state != NULL && strcmp(state, "0A000") == 0)
			{
				/* a utility statement: not planned, but said */
				Observed   *o;

				*obs = realloc(*obs, sizeof(Observed) * (*n + 1));
				if (*obs == NULL)
					pg_fatal_input("out of memory");
				o = &(*obs)[(*n)++];
				memset(o, 0, sizeof(*o));
				o->query = pg_strdup_or_die(stmts[i].text);
				o->file = path;
				o->line = stmts[i].line;
				o->verdict = V_SKIPPED;
				o->reason = pg_strdup_or_die("not planned: a utility statement (an EXPLAIN, CREATE ... AS, DECLARE, COPY or PREPARE is not looked into)");
				PQclear(res);
				continue;
			}
			pg_fatal_input("%s:%d: the server could not plan the statement: %s", path,
						   stmts[i].line, server_message(conn, res));
		}
		for (r = 0; r < PQntuples(res); r++)
		{
			Observed   *o;

			*obs = realloc(*obs, sizeof(Observed) * (*n + 1));
			if (*obs == NULL)
				pg_fatal_input("out of memory");
			o = &(*obs)[(*n)++];
			memset(o, 0, sizeof(*o));
			fill_observed(o, res, r, 2);
			o->query = pg_strdup_or_die(stmts[i].text);
			o->file = path;
			o->line = stmts[i].line;

			/*
			 * Under a profile, a plan that says no profile was in force
			 * was made with this database's own numbers (the profile
			 * could not be read): not judged.
			 */
			if (profile.source != NULL && PQgetisnull(res, r, 5))
				pg_fatal_input("%s:%d: the statement was planned without the statistics profile "
							   "(the server could not read it: see its log); nothing was judged",
							   path, stmts[i].line);
		}
		PQclear(res);
	}
	for (i = 0; i < nstmts; i++)
		free(stmts[i].text);
	free(stmts);
	free(sql);
}

/* GitHub workflow commands: an annotation per regression */
static void
github_escape(FILE *out, const char *s, bool property)
{
	for (; s && *s; s++)
	{
		if (*s == '%')
			fputs("%25", out);
		else if (*s == '\r')
			fputs("%0D", out);
		else if (*s == '\n')
			fputs("%0A", out);
		else if (property && *s == ':')
			fputs("%3A", out);
		else if (property && *s == ',')
			fputs("%2C", out);
		else
			fputc(*s, out);
	}
}

static void
report_github(FILE *out, Observed *obs, int n, const char *baseline, int counts[NVERDICTS])
{
	int			i;

	for (i = 0; i < n; i++)
	{
		Observed   *o = &obs[i];
		GrowBuf		t = {0};

		if (o->verdict != V_REGRESSION && o->verdict != V_IGNORED && o->verdict != V_SKIPPED)
			continue;
		growbuf_put(&t, "", 0);
		first_line(&t, o->query);
		fputs(o->verdict == V_REGRESSION ? "::error " : "::warning ", out);
		if (o->file != NULL)
		{
			fputs("file=", out);
			github_escape(out, o->file, true);
			fprintf(out, ",line=%d,", o->line);
		}
		fputs(o->verdict == V_REGRESSION ? "title=guard regression::" :
			  o->verdict == V_IGNORED ? "title=guard regression (ignored)::" :
			  "title=guard: statement not planned::", out);
		github_escape(out, o->reason, false);
		fputs(": ", out);
		github_escape(out, t.data, false);
		fputc('\n', out);
		free(t.data);
	}
	fputs("::notice title=pg_guard check::", out);
	fprintf(out, "%d statements against ", n);
	github_escape(out, baseline, false);
	fprintf(out, ": %d unchanged, %d changed, %d new, %d regressions, %d ignored, %d skipped\n",
			counts[V_UNCHANGED], counts[V_CHANGED], counts[V_NEW], counts[V_REGRESSION],
			counts[V_IGNORED], counts[V_SKIPPED]);
	if (profile.source != NULL)
	{
		fputs("::notice title=pg_guard statistics profile::planned under ", out);
		github_escape(out, profile.source, false);
		fprintf(out, "; %d relations or columns keep this database's own statistics\n",
				profile.nfallbacks);
		for (int k = 0; k < profile.nfallbacks; k++)
		{
			fputs("::warning title=pg_guard statistics profile fallback::", out);
			github_escape(out, profile.fallbacks[k].kind, false);
			fputs(" ", out);
			github_escape(out, profile.fallbacks[k].name, false);
			fputs(": ", out);
			github_escape(out, profile.fallbacks[k].reason, false);
			fputc('\n', out);
		}
	}
}

/*
 * apply_ignore: a regression an ignore rule in force covers (the same
 * query_hash, or the same text up to $n numbering) is "ignored", with the
 * rule's owner, expiry and reason; an expired rule is said in the reason.
 */
static void
apply_ignore(Observed *o, const CheckConfig *cfg)
{
	int			i;
	char		buf[1024];
	char	   *oc;

	const IgnoreRule *expired_rule = NULL;

	/* a plan the DBA rejected stays a regression: a rule pins a statement */
	if (o->verdict != V_REGRESSION || o->rejected)
		return;
	oc = o->query ? unnumbered(o->query) : NULL;
	for (i = 0; i < cfg->nignore; i++)
	{
		const IgnoreRule *ir = &cfg->ignore[i];
		bool		match;

		if (ir->has_hash)
			match = ir->query_hash == o->query_hash;
		else
		{
			char	   *rc = unnumbered(ir->query);

			match = oc != NULL && strcmp(rc, oc) == 0;
			free(rc);
		}
		if (!match)
			continue;
		if (ir->expired)
		{
			if (expired_rule == NULL)
				expired_rule = ir;
			continue;
		}
		o->verdict = V_IGNORED;
		snprintf(buf, sizeof(buf), "%s; ignored until %s by %s: %.600s",
				 o->reason, ir->expires, ir->owner, ir->reason);
		free(o->reason);
		o->reason = pg_strdup_or_die(buf);
		free(oc);
		return;
	}
	if (expired_rule != NULL)
	{
		snprintf(buf, sizeof(buf), "%s (the ignore rule of %s expired on %s)",
				 o->reason, expired_rule->owner, expired_rule->expires);
		free(o->reason);
		o->reason = pg_strdup_or_die(buf);
	}
	free(oc);
}

/* order of the report: by statement text, then hashes */
static int
cmp_observed(const void *x, const void *y)
{
	const Observed *a = x;
	const Observed *b = y;
	int			c;

	if (a->query == NULL || b->query == NULL)
		c = a->query == b->query ? 0 : (a->query == NULL ? 1 : -1);
	else
		c = strcmp(a->query, b->query);
	if (c != 0)
		return c;
	if (a->query_hash != b->query_hash)
		return a->query_hash < b->query_hash ? -1 : 1;
	return a->plan_hash < b->plan_hash ? -1 : a->plan_hash > b->plan_hash;
}

/*
 * pg_guard check --baseline FILE [--format text|json|junit] [-o FILE]
 * [--min-rows N]: exit 1 if any regression, 0 if none.
 */
int
cmd_check(int argc, char **argv)
{
	CommandOptions opts = {.takes_output = true, .takes_check = true, .takes_growth = true};
	int			first = parse_command_options(argc, argv, "check", &opts);
	const char *format = opts.format ? opts.format : "text";
	Baseline	b;
	char	  **canon;
	PGconn	   *conn;
	PGresult   *res;
	Observed   *obs;
	int			n;
	int			i;
	int			j;
	int			counts[NVERDICTS] = {0, 0, 0, 0, 0, 0};
	int		   *stmt;
	long		min_rows;
	FILE	   *out = stdout;
	CheckConfig cfg;
	int			hidden = 0;
	int			unprofiled = 0;
	int			r;

	if (opts.baseline == NULL)
		pg_fatal_usage("check needs --baseline FILE");
	if (opts.growth != NULL && opts.stats == NULL)
		pg_fatal_usage("--growth applies to the profile given with --stats FILE");
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0 &&
		strcmp(format, "junit") != 0 && strcmp(format, "github") != 0 &&
		strcmp(format, "html") != 0)
		pg_fatal_usage("unknown format \"%s\" (text, json, junit, github or html)", format);
	if (opts.config != NULL)
		yaml_read_check_config(opts.config, &cfg);
	else
	{
		memset(&cfg, 0, sizeof(cfg));
		cfg.min_rows = -1;
	}
	yaml_read_baseline(opts.baseline, &b);
	canon = pg_malloc0_or_die(sizeof(char *) * (b.n + 1));
	for (i = 0; i < b.n; i++)
		canon[i] = b.entries[i].query ? unnumbered(b.entries[i].query) : NULL;

	conn = connect_database();
	if (opts.stats != NULL)
	{
		/* the profile replaces the database's, then this session plans under it */
		stats_import_into(conn, opts.stats, opts.growth, false);
		res = PQexec(conn, "SET guard.stats_profile = on");
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			pg_fatal_input("could not plan under the statistics profile: %s", server_message(conn, res));
		PQclear(res);
	}
	read_profile(conn);
	min_rows = opts.min_rows >= 0 ? opts.min_rows :
		cfg.min_rows >= 0 ? cfg.min_rows : server_min_rows(conn);
	canonical_names(conn, opts.config, cfg.must_not_seqscan, cfg.nmust_not);
	canonical_names(conn, opts.config, cfg.allow_seqscan, cfg.nallow);
	server_allow_seqscan(conn, &cfg);
	/* guard 0.6 says whether each plan was made under a statistics profile */
	res = PQexec(conn,
				 "SELECT query_hash AS " CHECK_MARK ", plan_hash, query, plan, "
				 "       array_to_string(seqscans, E'\\n'), array_to_string(seqscan_rows, E'\\n'), "
				 "       pg_catalog.to_jsonb(p) OPERATOR(pg_catalog.->>) 'stats_profile' "
				 "  FROM guard.plans p "
				 " WHERE database = pg_catalog.current_database() AND calls > 0");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		pg_fatal_input("could not read guard.plans: %s", PQerrorMessage(conn));
	obs = pg_malloc0_or_die(sizeof(Observed) * (PQntuples(res) + 1));
	stmt = pg_malloc0_or_die(sizeof(int) * (b.n + 1));
	n = 0;
	for (r = 0; r < PQntuples(res); r++)
	{
		Observed   *o;
		int			nstmt = 0;
		char	   *oc;

		if (!PQgetisnull(res, r, 2) && own_statement(PQgetvalue(res, r, 2)))
			continue;
		/* another role's plan the connected role may not see: judged blind */
		if (!PQgetisnull(res, r, 2) &&
			strcmp(PQgetvalue(res, r, 2), "<insufficient privilege>") == 0)
		{
			hidden++;
			continue;
		}
		/*
		 * Under a profile, a plan observed without it (a session opened
		 * before the setting, or before the import) is staging's own: its
		 * verdict would be at staging's size, where nothing is large.
		 */
		if (profile.source != NULL && !PQgetisnull(res, r, 6) &&
			strcmp(PQgetvalue(res, r, 6), "false") == 0)
		{
			if (unprofiled < 3)
				fprintf(stderr, "%s: planned without the statistics profile: %.200s\n", progname,
						PQgetisnull(res, r, 2) ? "(no text)" : PQgetvalue(res, r, 2));
			unprofiled++;
		}
		o = &obs[n++];
		fill_observed(o, res, r, 3);
		o->query = PQgetisnull(res, r, 2) ? NULL : pg_strdup_or_die(PQgetvalue(res, r, 2));

		/* the statement's entries: the same query_hash, or the same text */
		oc = o->query ? unnumbered(o->query) : NULL;
		for (j = 0; j < b.n; j++)
			if (b.entries[j].query_hash == o->query_hash ||
				(oc != NULL && canon[j] != NULL && strcmp(oc, canon[j]) == 0))
				stmt[nstmt++] = j;
		free(oc);
		judge(o, &b, stmt, nstmt, min_rows, &cfg);
		apply_ignore(o, &cfg);
		counts[o->verdict]++;
	}
	PQclear(res);
	if (unprofiled > 0)
		pg_fatal_input("%d observed plan%s made without the statistics profile, at staging's "
					   "own size: their verdicts would mean nothing.  Import the profile with "
					   "--enable before the test suite opens its sessions, and forget what ran "
					   "before (guard.reset for this database); see doc/ci.md",
					   unprofiled, unprofiled == 1 ? " was" : "s were");
	if (hidden > 0)
		pg_fatal_input("%d observed plans are of roles whose statements role \"%s\" may not see; "
					   "run pg_guard check as a superuser or a role granted pg_read_all_stats",
					   hidden, PQuser(conn));

	/* the statements of the SQL files, planned, never executed */
	{
		int			before = n;
		int			f;

		for (f = first; f < argc; f++)
			plan_file_statements(conn, argv[f], &obs, &n);
		for (i = before; i < n; i++)
		{
			Observed   *o = &obs[i];
			int			nstmt = 0;
			char	   *oc;

			if (o->verdict == V_SKIPPED)
			{
				counts[V_SKIPPED]++;
				continue;
			}
			oc = unnumbered(o->query);

			for (j = 0; j < b.n; j++)
				if (b.entries[j].query_hash == o->query_hash ||
					(canon[j] != NULL && strcmp(oc, canon[j]) == 0))
					stmt[nstmt++] = j;
			free(oc);
			judge(o, &b, stmt, nstmt, min_rows, &cfg);
			apply_ignore(o, &cfg);
			counts[o->verdict]++;
		}
	}
	PQfinish(conn);
	qsort(obs, n, sizeof(Observed), cmp_observed);

	if (opts.output != NULL && (out = fopen(opts.output, "w")) == NULL)
		pg_fatal_input("could not open file \"%s\" for writing: %m", opts.output);
	if (strcmp(format, "json") == 0)
		report_json(out, obs, n, opts.baseline, counts);
	else if (strcmp(format, "junit") == 0)
		report_junit(out, obs, n, opts.baseline, counts);
	else if (strcmp(format, "github") == 0)
		report_github(out, obs, n, opts.baseline, counts);
	else if (strcmp(format, "html") == 0)
		report_html(out, obs, n, opts.baseline, counts);
	else
		report_text(out, obs, n, opts.baseline, counts);
	if (fflush(out) != 0 || ferror(out) || (out != stdout && fclose(out) != 0))
		pg_fatal_input("could not write \"%s\": %m", opts.output ? opts.output : "stdout");
	return counts[V_REGRESSION] > 0 ? EXIT_FOUND : EXIT_CLEAN;
}
