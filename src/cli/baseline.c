/*-------------------------------------------------------------------------
 *
 * baseline.c
 *		pg_guard's baseline commands: export guard.baseline as YAML, import
 *		a YAML baseline all or nothing, diff two baseline files.
 *
 * The file format is doc/pg_guard.md's "guard-baseline" version 1, read
 * and written by yamlio.c.  Entries are sorted (statement text, then the
 * hashes) so that the same baseline always gives the same bytes, and
 * export -> import -> export gives the file back byte for byte.
 *
 * Import runs in one transaction: the file is read and checked completely
 * first (any error names its line and column and nothing is sent), then
 * every entry is inserted; an error the server raises for one entry rolls
 * everything back and names that entry's line.
 *
 * IDENTIFICATION
 *		src/cli/baseline.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pg_guard.h"

static char *
dup_or_null(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : pg_strdup_or_die(PQgetvalue(res, row, col));
}

static int
cmp_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b ? 0 : (a == NULL ? 1 : -1);
	return strcmp(a, b);
}

static int
cmp_entry(const void *x, const void *y)
{
	const BaselineEntry *a = x;
	const BaselineEntry *b = y;
	int			c = cmp_text(a->query, b->query);

	if (c != 0)
		return c;
	if (a->query_hash != b->query_hash)
		return a->query_hash < b->query_hash ? -1 : 1;
	if (a->plan_hash != b->plan_hash)
		return a->plan_hash < b->plan_hash ? -1 : 1;
	return 0;
}

/* baseline_sort: the order of the file (statement text, then hashes) */
void
baseline_sort(Baseline *b)
{
	qsort(b->entries, b->n, sizeof(BaselineEntry), cmp_entry);
}

/*
 * check_extension: the extension must be installed at 0.<minor> or later
 * (what: what needs it, for the message); exits with status 2 if not.
 */
void
check_extension(PGconn *conn, int min_minor, const char *what)
{
	int			major;
	int			minor;
	PGresult   *res = PQexec(conn,
							 "SELECT extversion AS " PG_GUARD_MARK " FROM pg_catalog.pg_extension WHERE extname = 'guard'");

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		pg_fatal_input("could not read the extension's version: %s", PQerrorMessage(conn));
	if (PQntuples(res) != 1)
		pg_fatal_input("extension guard is not installed in database \"%s\"", PQdb(conn));
	if (sscanf(PQgetvalue(res, 0, 0), "%d.%d", &major, &minor) != 2 ||
		(major == 0 && minor < min_minor))
		pg_fatal_input("extension guard is at version %s in database \"%s\"; %s 0.%d or later (ALTER EXTENSION guard UPDATE)",
					   PQgetvalue(res, 0, 0), PQdb(conn), what, min_minor);
	PQclear(res);
}

/*
 * A time as the file writes it: UTC with microseconds, " BC" before year 1,
 * infinity and -infinity as such (to_char gives NULL for them).
 */
#define EXPORT_TIME(col) \
	"CASE WHEN NOT pg_catalog.isfinite(" col ") THEN " col "::text " \
	"     ELSE pg_catalog.to_char(" col " AT TIME ZONE 'UTC', " \
	"          'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') " \
	"          || CASE WHEN " col " < '0001-01-01 00:00:00+00' THEN ' BC' ELSE '' END END"

static void
write_baseline(FILE *out, const void *arg)
{
	yaml_write_baseline(out, (const Baseline *) arg);
}

/*
 * pg_guard baseline export [-o FILE]: the database's guard.baseline, every
 * decision, times in UTC with microseconds.
 */
int
cmd_baseline_export(int argc, char **argv)
{
	CommandOptions o = {.takes_output = true};
	int			first = parse_command_options(argc, argv, "baseline export", &o);
	char	   *output = o.output;
	PGconn	   *conn;
	PGresult   *res;
	Baseline	b;
	int			i;

	if (first < argc)
		pg_fatal_usage("too many arguments for baseline export: \"%s\"", argv[first]);
	conn = connect_database();
	check_extension(conn, 5, "pg_guard needs");
	res = PQexec(conn,
				 "SELECT query_hash AS " PG_GUARD_MARK ", plan_hash, coalesce(fingerprint_rules, 1), status, note, "
				 "       created_by, "
				 "       " EXPORT_TIME("created_at") ", " EXPORT_TIME("expires_at") ", "
				 "       query_role, query, plan "
				 "  FROM guard.baseline");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		pg_fatal_input("could not read guard.baseline: %s", server_message(conn, res));
	b.n = PQntuples(res);
	b.entries = pg_malloc0_or_die(sizeof(BaselineEntry) * (b.n > 0 ? b.n : 1));
	for (i = 0; i < b.n; i++)
	{
		BaselineEntry *e = &b.entries[i];

		e->query_hash = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		e->plan_hash = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		e->rules = atoi(PQgetvalue(res, i, 2));
		e->status = dup_or_null(res, i, 3);
		e->note = dup_or_null(res, i, 4);
		e->created_by = dup_or_null(res, i, 5);
		e->created_at = dup_or_null(res, i, 6);
		e->expires_at = dup_or_null(res, i, 7);
		e->query_role = dup_or_null(res, i, 8);
		e->query = dup_or_null(res, i, 9);
		e->plan = dup_or_null(res, i, 10);
	}
	PQclear(res);
	PQfinish(conn);
	baseline_sort(&b);

	write_file_atomically(output, write_baseline, &b);
	return EXIT_CLEAN;
}

/* The error of a failed command, then rollback and exit */
static void
import_failed(PGconn *conn, PGresult *res, const char *path, const BaselineEntry *e)
{
	const char *msg = server_message(conn, res);

	if (e != NULL)
		fprintf(stderr, "%s: error: %s:%d:%d: the server refused the entry: %s\n",
				progname, path, e->line, e->column, msg);
	else
		fprintf(stderr, "%s: error: the server refused the import: %s\n", progname, msg);
	fprintf(stderr, "%s: nothing was imported\n", progname);
	PQclear(PQexec(conn, "ROLLBACK"));
	PQfinish(conn);
	exit(EXIT_TROUBLE);
}

static void
exec_or_fail(PGconn *conn, const char *sql, const char *path)
{
	PGresult   *res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		import_failed(conn, res, path, NULL);
	PQclear(res);
}

/* one element of a text[] literal: NULL, or double-quoted with escapes */
static void
array_element(GrowBuf *b, const char *v)
{
	const char *p;

	growbuf_put(b, b->len > 1 ? "," : "", b->len > 1 ? 1 : 0);
	if (v == NULL)
	{
		growbuf_put(b, "NULL", 4);
		return;
	}
	growbuf_put(b, "\"", 1);
	for (p = v; *p; p++)
	{
		if (*p == '"' || *p == '\\')
			growbuf_put(b, "\\", 1);
		growbuf_put(b, p, 1);
	}
	growbuf_put(b, "\"", 1);
}

#define IMPORT_COLUMNS 11

/*
 * insert_entries: entries [from, to) in one INSERT of unnested arrays (one
 * statement for the whole file: the statement-level trigger and guard's
 * own planning run once).  Returns the result; the caller checks it.
 */
static PGresult *
insert_entries(PGconn *conn, const Baseline *bl, int from, int to)
{
	static const char *insert =
	"INSERT INTO guard.baseline AS b (query_hash, plan_hash, fingerprint_rules, status, note, "
	"  created_by, created_at, expires_at, query_role, query, plan) "
	"SELECT u.qh::bigint AS " PG_GUARD_MARK ", u.ph::bigint, u.r::smallint, u.st, u.note, "
	"       coalesce(u.cb::name, current_user), coalesce(u.ca::timestamptz, pg_catalog.now()), "
	"       u.ea::timestamptz, u.role::name, u.q, u.p "
	"  FROM ROWS FROM (unnest($1::text[]), unnest($2::text[]), unnest($3::text[]), "
	"                  unnest($4::text[]), unnest($5::text[]), unnest($6::text[]), "
	"                  unnest($7::text[]), unnest($8::text[]), unnest($9::text[]), "
	"                  unnest($10::text[]), unnest($11::text[])) "
	"       AS u(qh, ph, r, st, note, cb, ca, ea, role, q, p) "
	"ON CONFLICT (query_hash, plan_hash) DO UPDATE SET "
	"  fingerprint_rules = excluded.fingerprint_rules, status = excluded.status, "
	"  note = excluded.note, created_by = excluded.created_by, "
	"  created_at = excluded.created_at, expires_at = excluded.expires_at, "
	"  query_role = excluded.query_role, query = excluded.query, plan = excluded.plan";
	GrowBuf		cols[IMPORT_COLUMNS];
	const char *values[IMPORT_COLUMNS];
	PGresult   *res;
	int			i;
	int			c;

	memset(cols, 0, sizeof(cols));
	for (c = 0; c < IMPORT_COLUMNS; c++)
		growbuf_put(&cols[c], "{", 1);
	for (i = from; i < to; i++)
	{
		const BaselineEntry *e = &bl->entries[i];
		char		qh[24];
		char		ph[24];
		char		rules[8];

		snprintf(qh, sizeof(qh), "%" PRId64, e->query_hash);
		snprintf(ph, sizeof(ph), "%" PRId64, e->plan_hash);
		snprintf(rules, sizeof(rules), "%d", e->rules);
		array_element(&cols[0], qh);
		array_element(&cols[1], ph);
		array_element(&cols[2], rules);
		array_element(&cols[3], e->status);
		array_element(&cols[4], e->note);
		array_element(&cols[5], e->created_by);
		array_element(&cols[6], e->created_at);
		array_element(&cols[7], e->expires_at);
		array_element(&cols[8], e->query_role);
		array_element(&cols[9], e->query);
		array_element(&cols[10], e->plan);
	}
	for (c = 0; c < IMPORT_COLUMNS; c++)
	{
		growbuf_put(&cols[c], "}", 1);
		values[c] = cols[c].data;
	}
	res = PQexecParams(conn, insert, IMPORT_COLUMNS, NULL, values, NULL, NULL, 0);
	for (c = 0; c < IMPORT_COLUMNS; c++)
		free(cols[c].data);
	return res;
}

/*
 * find_refused: after the server refused the entries [from, to) as a
 * whole, the first entry it refuses alone, by halving under savepoints
 * (log2(n) statements); -1 if none does.
 */
static int
find_refused(PGconn *conn, const Baseline *bl, int from, int to)
{
	while (to - from > 1)
	{
		int			mid = from + (to - from) / 2;
		PGresult   *res;
		bool		ok;

		PQclear(PQexec(conn, "SAVEPOINT probe"));
		res = insert_entries(conn, bl, from, mid);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
		PQclear(PQexec(conn, "ROLLBACK TO SAVEPOINT probe"));
		if (ok)
			from = mid;
		else
			to = mid;
	}
	return from;
}

/*
 * pg_guard baseline import FILE [--replace]: the file's decisions into
 * guard.baseline, replacing those with the same hashes; with --replace the
 * decisions the file does not hold are deleted.  One transaction.
 */
int
cmd_baseline_import(int argc, char **argv)
{
	CommandOptions o = {.takes_replace = true};
	int			first = parse_command_options(argc, argv, "baseline import", &o);
	bool		replace = o.replace;
	const char *path;
	Baseline	b;
	PGconn	   *conn;
	PGresult   *res;

	if (first >= argc)
		pg_fatal_usage("baseline import needs a FILE");
	if (first + 1 < argc)
		pg_fatal_usage("too many arguments for baseline import: \"%s\"", argv[first + 1]);
	path = argv[first];

	/* the whole file is read and checked before anything is sent */
	yaml_read_baseline(path, &b);

	conn = connect_database();
	check_extension(conn, 5, "pg_guard needs");
	exec_or_fail(conn, "BEGIN", path);
	exec_or_fail(conn, "SET LOCAL search_path = pg_catalog, pg_temp", path);
	/* the file's times mean one thing: UTC, ISO */
	exec_or_fail(conn, "SET LOCAL timezone = 'UTC'", path);
	exec_or_fail(conn, "SET LOCAL datestyle = 'ISO, YMD'", path);
	exec_or_fail(conn, "LOCK TABLE guard.baseline IN SHARE ROW EXCLUSIVE MODE", path);
	if (replace)
		exec_or_fail(conn, "DELETE FROM guard.baseline", path);
	if (b.n > 0)
	{
		exec_or_fail(conn, "SAVEPOINT import", path);
		res = insert_entries(conn, &b, 0, b.n);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			PGresult   *alone;
			int			bad;

			/*
			 * Only a value the server refuses (classes 22 and 23) is some
			 * entry's: then which, by the server's message for it alone.
			 * A timeout, a read-only transaction or a missing privilege is
			 * the import's.
			 */
			if (state == NULL || (strncmp(state, "22", 2) != 0 && strncmp(state, "23", 2) != 0))
				import_failed(conn, res, path, NULL);
			PQclear(PQexec(conn, "ROLLBACK TO SAVEPOINT import"));
			bad = find_refused(conn, &b, 0, b.n);
			alone = insert_entries(conn, &b, bad, bad + 1);
			if (PQresultStatus(alone) != PGRES_COMMAND_OK)
				import_failed(conn, alone, path, &b.entries[bad]);
			import_failed(conn, res, path, NULL);
		}
		PQclear(res);
	}
	exec_or_fail(conn, "COMMIT", path);
	PQfinish(conn);
	fprintf(stderr, "%s: imported %d decision%s from \"%s\"%s\n", progname, b.n,
			b.n == 1 ? "" : "s", path, replace ? " (the others deleted)" : "");
	return EXIT_CLEAN;
}

/*
 * first_line: the statement's first line as diff shows it: control
 * characters written \xNN (an escape sequence in a statement must not
 * rewrite the reviewer's terminal), cut at a character boundary.
 */
static const char *
first_line(const char *s, char *buf, size_t size)
{
	size_t		o = 0;
	const unsigned char *p = (const unsigned char *) s;

	if (s == NULL)
		return "(no statement text)";
	for (; *p && *p != '\n' && o + 8 < size; p++)
	{
		if (*p < 0x20 || *p == 0x7f)
			o += snprintf(buf + o, size - o, "\\x%02x", *p);
		else
			buf[o++] = (char) *p;
	}
	/* do not end inside a multibyte character */
	if (*p && *p != '\n')
		while (o > 0 && ((unsigned char) buf[o - 1] & 0xC0) == 0x80)
			o--;
	if (o > 0 && ((unsigned char) buf[o - 1] & 0xC0) == 0xC0 && *p && *p != '\n')
		o--;
	buf[o] = '\0';
	if (*p)
		strcat(buf, "...");
	return buf;
}

static int
cmp_hashes(const BaselineEntry *a, const BaselineEntry *b)
{
	if (a->query_hash != b->query_hash)
		return a->query_hash < b->query_hash ? -1 : 1;
	if (a->plan_hash != b->plan_hash)
		return a->plan_hash < b->plan_hash ? -1 : 1;
	return 0;
}

static int
cmp_hashes_q(const void *x, const void *y)
{
	return cmp_hashes(x, y);
}

static void
report(const char *what, const BaselineEntry *e, const char *detail)
{
	char		buf[120];

	printf("%-9s %" PRId64 " %" PRId64 "  %s%s%s\n", what, e->query_hash, e->plan_hash,
		   first_line(e->query, buf, sizeof(buf)), detail ? "  " : "", detail ? detail : "");
}

/*
 * pg_guard diff OLD NEW: what the change from OLD to NEW approves, rejects,
 * changes (status aside: note, expiry, texts) or drops, one line each,
 * ordered by hashes.  Exit status 1 if there is any, 0 if none.
 */
int
cmd_diff(int argc, char **argv)
{
	CommandOptions o = {0};
	int			first = parse_command_options(argc, argv, "diff", &o);
	Baseline	old;
	Baseline	new;
	int			i = 0;
	int			j = 0;
	int			changes = 0;

	if (argc - first != 2)
		pg_fatal_usage("diff needs two files: OLD NEW");
	yaml_read_baseline(argv[first], &old);
	yaml_read_baseline(argv[first + 1], &new);
	qsort(old.entries, old.n, sizeof(BaselineEntry), cmp_hashes_q);
	qsort(new.entries, new.n, sizeof(BaselineEntry), cmp_hashes_q);
	while (i < old.n || j < new.n)
	{
		int			c = i >= old.n ? 1 : j >= new.n ? -1 :
			cmp_hashes(&old.entries[i], &new.entries[j]);

		if (c < 0)
		{
			report("drops", &old.entries[i], old.entries[i].status);
			changes++;
			i++;
			continue;
		}
		if (c > 0)
		{
			report(strcmp(new.entries[j].status, "approved") == 0 ? "approves" : "rejects",
				   &new.entries[j], NULL);
			changes++;
			j++;
			continue;
		}
		if (strcmp(old.entries[i].status, new.entries[j].status) != 0)
		{
			report(strcmp(new.entries[j].status, "approved") == 0 ? "approves" : "rejects",
				   &new.entries[j], strcmp(new.entries[j].status, "approved") == 0 ?
				   "(was rejected)" : "(was approved)");
			changes++;
		}
		else
		{
			const BaselineEntry *a = &old.entries[i];
			const BaselineEntry *z = &new.entries[j];
			char		fields[256] = "";

#define FIELD(cond, name) if (cond) strcat(fields, fields[0] ? ", " name : "(" name)
			FIELD(cmp_text(a->note, z->note) != 0, "note");
			FIELD(cmp_text(a->expires_at, z->expires_at) != 0, "expires_at");
			FIELD(cmp_text(a->query_role, z->query_role) != 0, "query_role");
			FIELD(cmp_text(a->created_by, z->created_by) != 0, "created_by");
			FIELD(cmp_text(a->created_at, z->created_at) != 0, "created_at");
			FIELD(a->rules != z->rules, "fingerprint_rules");
			FIELD(cmp_text(a->query, z->query) != 0, "query");
			FIELD(cmp_text(a->plan, z->plan) != 0, "plan");
#undef FIELD
			if (fields[0])
			{
				strcat(fields, ")");
				report("changes", z, fields);
				changes++;
			}
		}
		i++;
		j++;
	}
	fprintf(stderr, "%s: %d changes\n", progname, changes);
	return changes > 0 ? EXIT_FOUND : EXIT_CLEAN;
}
