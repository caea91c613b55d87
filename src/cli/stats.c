/*-------------------------------------------------------------------------
 *
 * stats.c
 *		pg_guard stats export and import: the statistics profile
 *		(doc/statistics-profile.md).
 *
 * export reads, in production, what the planner reads: pg_class's
 * reltuples, relpages and relallvisible of every table and index, the
 * current size of each in blocks, a btree's height (through guard, when
 * installed), and pg_statistic in the form of the pg_stats view (values as
 * text).  It needs a superuser (pg_statistic), and prints values under
 * fixed settings (ISO dates, UTC, exact floats) so that the file is the
 * same whatever the session's settings, and loads into any server.
 *
 * import replaces the profile of the database (guard.stats_profile,
 * stats_relations, stats_columns) in one transaction, then has the server
 * build every column's statistics (guard.stats_profile_check()): a value
 * the server refuses names the file's line, and nothing changes.
 *
 * IDENTIFICATION
 *		src/cli/stats.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pg_guard.h"

/* settings under which values are printed and read: one text per value */
static const char *const fixed_settings[] = {
	"SET datestyle = 'ISO, YMD'",
	"SET intervalstyle = 'postgres'",
	"SET timezone = 'UTC'",
	"SET extra_float_digits = 3",
	"SET bytea_output = 'hex'",
	"SET search_path = pg_catalog, pg_temp",
	NULL
};

/* the relations of the profile: user schemas, or those given with -n */
#define RELATION_FILTER \
	" WHERE c.relkind IN ('r', 'm', 'p', 'i', 'I') AND c.relpersistence <> 't'" \
	"   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'guard')" \
	"   AND n.nspname !~ '^pg_(toast_)?temp_'" \
	"   AND NOT EXISTS (SELECT FROM pg_catalog.pg_index x WHERE x.indexrelid = c.oid AND NOT x.indisvalid)" \
	"   AND ($1::pg_catalog.text[] IS NULL OR n.nspname = ANY ($1::pg_catalog.text[]))"

static char *
dup_value(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : pg_strdup_or_die(PQgetvalue(res, row, col));
}

static int
cmp_rel(const void *x, const void *y)
{
	const StatsRelation *a = x;
	const StatsRelation *b = y;
	int			c = strcmp(a->f[0], b->f[0]);

	return c != 0 ? c : strcmp(a->f[1], b->f[1]);
}

static int
cmp_col(const void *x, const void *y)
{
	const StatsColumn *a = x;
	const StatsColumn *b = y;
	int			c = strcmp(a->f[0], b->f[0]);

	return c != 0 ? c : strcmp(a->f[1], b->f[1]);
}

/* stats_sort: relations by schema and name, columns by name and inherited */
void
stats_sort(StatsProfile *p)
{
	qsort(p->rels, p->nrels, sizeof(StatsRelation), cmp_rel);
	for (int i = 0; i < p->nrels; i++)
		qsort(p->rels[i].cols, p->rels[i].ncols, sizeof(StatsColumn), cmp_col);
}

/* the SQL of one statistics kind's values (or numbers) of pg_statistic */
static void
slot_expr(GrowBuf *b, int kind, const char *what, const char *suffix)
{
	char		part[160];

	growbuf_put(b, "(CASE", 5);
	for (int k = 1; k <= 5; k++)
	{
		snprintf(part, sizeof(part), " WHEN s.stakind%d = %d THEN s.sta%s%d%s", k, kind, what, k,
				 suffix);
		growbuf_put(b, part, strlen(part));
	}
	growbuf_put(b, " END)", 5);
}

static void
put(GrowBuf *b, const char *s)
{
	growbuf_put(b, s, strlen(s));
}

/* the schemas given with -n as a text[] literal, or NULL */
static char *
schema_array(char **schemas, int n)
{
	GrowBuf		b = {0};

	if (n == 0)
		return NULL;
	put(&b, "{");
	for (int i = 0; i < n; i++)
	{
		put(&b, i > 0 ? ",\"" : "\"");
		for (const char *c = schemas[i]; *c; c++)
		{
			if (*c == '"' || *c == '\\')
				put(&b, "\\");
			growbuf_put(&b, c, 1);
		}
		put(&b, "\"");
	}
	put(&b, "}");
	return b.data;
}

/* does --no-values-for name schema.table, or schema.table.column? */
static bool
no_values(const CommandOptions *o, const char *schema, const char *table, const char *column)
{
	for (int i = 0; i < o->nno_values; i++)
	{
		char		name[3 * 64 + 3];

		snprintf(name, sizeof(name), "%s.%s", schema, table);
		if (strcmp(o->no_values[i], name) == 0)
			return true;
		snprintf(name, sizeof(name), "%s.%s.%s", schema, table, column);
		if (strcmp(o->no_values[i], name) == 0)
			return true;
	}
	return false;
}

static void
write_stats(FILE *out, const void *arg)
{
	yaml_write_stats(out, (const StatsProfile *) arg);
}

/* find the relation (schema, name) of p, sorted; NULL if absent */
static StatsRelation *
find_rel(StatsProfile *p, const char *schema, const char *name)
{
	StatsRelation key;

	key.f[0] = (char *) schema;
	key.f[1] = (char *) name;
	return bsearch(&key, p->rels, p->nrels, sizeof(StatsRelation), cmp_rel);
}

/*
 * pg_guard stats export [-n SCHEMA]... [-o FILE]
 */
int
cmd_stats_export(int argc, char **argv)
{
	CommandOptions o = {.takes_output = true,.takes_schema = true};
	int			first = parse_command_options(argc, argv, "stats export", &o);
	PGconn	   *conn;
	PGresult   *res;
	StatsProfile p;
	GrowBuf		sql = {0};
	const char *params[1];
	bool		have_height;
	int			i;

	if (first < argc)
		pg_fatal_usage("too many arguments for stats export: \"%s\"", argv[first]);
	memset(&p, 0, sizeof(p));
	params[0] = schema_array(o.schemas, o.nschemas);
	conn = connect_database();
	for (i = 0; fixed_settings[i]; i++)
	{
		res = PQexec(conn, fixed_settings[i]);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			pg_fatal_input("could not prepare the session: %s", server_message(conn, res));
		PQclear(res);
	}
	/* one snapshot for the whole export */
	PQclear(PQexec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));

	res = PQexec(conn,
				 "SELECT pg_catalog.current_database() AS " PG_GUARD_MARK ", "
				 "       pg_catalog.current_setting('server_version'), "
				 "       pg_catalog.to_char(pg_catalog.now() AT TIME ZONE 'UTC', "
				 "                          'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
				 "       pg_catalog.to_regprocedure('guard.stats_btree_height(regclass)') IS NOT NULL "
				 "       AND pg_catalog.has_function_privilege('guard.stats_btree_height(regclass)', 'EXECUTE'), "
				 "       pg_catalog.has_table_privilege('pg_catalog.pg_statistic', 'SELECT')");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		pg_fatal_input("could not read the server's version: %s", server_message(conn, res));
	p.source = pg_strdup_or_die(PQgetvalue(res, 0, 0));
	p.server_version = pg_strdup_or_die(PQgetvalue(res, 0, 1));
	p.exported_at = pg_strdup_or_die(PQgetvalue(res, 0, 2));
	have_height = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
	if (strcmp(PQgetvalue(res, 0, 4), "t") != 0)
		pg_fatal_input("reading column statistics needs a superuser (pg_catalog.pg_statistic); connected as \"%s\"",
					   PQuser(conn));
	PQclear(res);

	/* every schema given with -n must exist: a typo would export nothing */
	if (params[0] != NULL)
	{
		res = PQexecParams(conn,
						   "SELECT NULL AS " PG_GUARD_MARK ", s FROM pg_catalog.unnest($1::pg_catalog.text[]) s "
						   " WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_namespace n WHERE n.nspname = s)",
						   1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			pg_fatal_input("could not read the schemas: %s", server_message(conn, res));
		if (PQntuples(res) > 0)
			pg_fatal_usage("schema \"%s\" does not exist in database \"%s\" (-n takes a schema's exact name)",
						   PQgetvalue(res, 0, 1), PQdb(conn));
		PQclear(res);
	}

	/* relations; a partitioned table has no pages: PostgreSQL 15 says -1 */
	put(&sql, "SELECT n.nspname AS " PG_GUARD_MARK ", c.relname, c.relkind, c.reltuples, "
		"       GREATEST(c.relpages, 0), GREATEST(c.relallvisible, 0), "
		"       CASE WHEN c.relkind IN ('r', 'm', 'i') "
		"            THEN pg_catalog.pg_relation_size(c.oid) "
		"                 / pg_catalog.current_setting('block_size')::pg_catalog.int8 END, ");
	put(&sql, have_height ?
		"       CASE WHEN c.relkind = 'i' THEN guard.stats_btree_height(c.oid) END " :
		"       NULL::pg_catalog.int4 ");
	put(&sql, "  FROM pg_catalog.pg_class c "
		"  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace " RELATION_FILTER);
	res = PQexecParams(conn, sql.data, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		pg_fatal_input("could not read the relations: %s", server_message(conn, res));
	p.nrels = PQntuples(res);
	p.rels = pg_malloc0_or_die(sizeof(StatsRelation) * (p.nrels + 1));
	for (i = 0; i < p.nrels; i++)
		for (int f = 0; f < STATS_REL_FIELDS; f++)
			p.rels[i].f[f] = dup_value(res, i, f);
	PQclear(res);
	qsort(p.rels, p.nrels, sizeof(StatsRelation), cmp_rel);

	/* column statistics, as pg_stats shows them */
	free(sql.data);
	memset(&sql, 0, sizeof(sql));
	put(&sql, "SELECT n.nspname AS " PG_GUARD_MARK ", c.relname, a.attname, s.stainherit, "
		"       pg_catalog.quote_ident(tn.nspname) || '.' || pg_catalog.quote_ident(t.typname), "
		"       s.stanullfrac, s.stawidth, s.stadistinct, ");
	slot_expr(&sql, 1, "values", "::pg_catalog.text");	/* most_common_vals */
	put(&sql, ", ");
	slot_expr(&sql, 1, "numbers", "");	/* most_common_freqs */
	put(&sql, ", ");
	slot_expr(&sql, 2, "values", "::pg_catalog.text");	/* histogram_bounds */
	put(&sql, ", ");
	slot_expr(&sql, 3, "numbers", "[1]");	/* correlation */
	put(&sql, ", ");
	slot_expr(&sql, 4, "values", "::pg_catalog.text");	/* most_common_elems */
	put(&sql, ", ");
	slot_expr(&sql, 4, "numbers", "");	/* most_common_elem_freqs */
	put(&sql, ", ");
	slot_expr(&sql, 5, "numbers", "");	/* elem_count_histogram */
	put(&sql, ", ");
	slot_expr(&sql, 6, "values", "::pg_catalog.text");	/* range_length_histogram */
	put(&sql, ", ");
	slot_expr(&sql, 6, "numbers", "[1]");	/* range_empty_frac */
	put(&sql, ", ");
	slot_expr(&sql, 7, "values", "::pg_catalog.text");	/* range_bounds_histogram */
	/*
	 * For --no-values-for: an index's expression columns go with its table,
	 * and a partition's with its partitioned table (their values are the
	 * same data).
	 */
	put(&sql, ", COALESCE((SELECT t.relname FROM pg_catalog.pg_index x "
		"                  JOIN pg_catalog.pg_class t ON t.oid = x.indrelid "
		"                 WHERE x.indexrelid = c.oid), c.relname), "
		"  (SELECT r.relname FROM pg_catalog.pg_class r "
		"    WHERE r.oid = pg_catalog.pg_partition_root(COALESCE((SELECT x.indrelid FROM pg_catalog.pg_index x "
		"                                                          WHERE x.indexrelid = c.oid), c.oid))) ");
	put(&sql, "  FROM pg_catalog.pg_statistic s "
		"  JOIN pg_catalog.pg_class c ON c.oid = s.starelid "
		"  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"  JOIN pg_catalog.pg_attribute a ON a.attrelid = s.starelid AND a.attnum = s.staattnum "
		"       AND NOT a.attisdropped "
		"  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
		"  JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace " RELATION_FILTER);
	res = PQexecParams(conn, sql.data, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		pg_fatal_input("could not read the column statistics: %s", server_message(conn, res));
	for (i = 0; i < PQntuples(res); i++)
	{
		StatsRelation *rel = find_rel(&p, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
		StatsColumn *col;

		if (rel == NULL)
			continue;			/* created after the relations were read: not in the snapshot */
		rel->cols = realloc(rel->cols, sizeof(StatsColumn) * (rel->ncols + 1));
		if (rel->cols == NULL)
			pg_fatal_input("out of memory");
		col = &rel->cols[rel->ncols++];
		memset(col, 0, sizeof(*col));
		col->f[0] = dup_value(res, i, 2);
		col->f[1] = pg_strdup_or_die(strcmp(PQgetvalue(res, i, 3), "t") == 0 ? "true" : "false");
		for (int f = 2; f < STATS_COL_FIELDS; f++)
			col->f[f] = dup_value(res, i, f + 2);
		if (no_values(&o, PQgetvalue(res, i, 0), PQgetvalue(res, i, STATS_COL_FIELDS + 2),
					  PQgetvalue(res, i, 2)) ||
			(!PQgetisnull(res, i, STATS_COL_FIELDS + 3) &&
			 no_values(&o, PQgetvalue(res, i, 0), PQgetvalue(res, i, STATS_COL_FIELDS + 3),
					   PQgetvalue(res, i, 2))))
		{
			/* production's data values stay in production: the shape of the data goes */
			static const int value_fields[] = {6, 7, 8, 10, 11, 12, 13, 14, 15};

			for (int k = 0; k < (int) (sizeof(value_fields) / sizeof(value_fields[0])); k++)
			{
				free(col->f[value_fields[k]]);
				col->f[value_fields[k]] = NULL;
			}
		}
	}
	PQclear(res);
	PQclear(PQexec(conn, "COMMIT"));
	PQfinish(conn);
	free(sql.data);
	free(o.schemas);
	free((char *) params[0]);

	stats_sort(&p);
	/* the file holds production's data values: readable by its owner only */
	umask(077);
	write_file_atomically(o.output, write_stats, &p);
	fprintf(stderr, "%s: exported %d relation%s\n", progname, p.nrels, p.nrels == 1 ? "" : "s");
	stats_free(&p);
	return EXIT_CLEAN;
}

/* the error of a failed command, then rollback and exit */
static void
import_failed(PGconn *conn, PGresult *res, const char *path, int line, int column,
			  const char *what)
{
	const char *context = res ? PQresultErrorField(res, PG_DIAG_CONTEXT) : NULL;

	if (line > 0)
		fprintf(stderr, "%s: error: %s:%d:%d: the server refused the %s: %s\n",
				progname, path, line, column, what, server_message(conn, res));
	else
		fprintf(stderr, "%s: error: the server refused the statistics profile: %s\n",
				progname, server_message(conn, res));
	if (context != NULL)
		fprintf(stderr, "%s: context: %s\n", progname, context);
	fprintf(stderr, "%s: nothing was imported\n", progname);
	PQclear(PQexec(conn, "ROLLBACK"));
	PQfinish(conn);
	exit(EXIT_TROUBLE);
}

static void
exec_or_fail(PGconn *conn, const char *sql, const char *path)
{
	PGresult   *res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		import_failed(conn, res, path, 0, 0, NULL);
	PQclear(res);
}

/*
 * stats_import_into: the profile at path replaces the database's, in one
 * transaction on conn; growth (NULL: 1) multiplies every size; enable sets
 * guard.stats_profile for the database.  Exits with status 2, nothing
 * changed, on any error.
 */
void
stats_import_into(PGconn *conn, const char *path, const char *growth, bool enable)
{
	StatsProfile p;
	PGresult   *res;
	int			ncols = 0;
	int			nfallbacks = 0;

	/* the whole file is read and checked before anything is sent */
	yaml_read_stats(path, &p);
	check_extension(conn, 6, "statistics profiles need");
	res = PQexec(conn, "SELECT NULL AS " PG_GUARD_MARK ", rolsuper FROM pg_catalog.pg_roles "
				 "WHERE rolname = CURRENT_USER");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		pg_fatal_input("could not read the role's attributes: %s", server_message(conn, res));
	if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
		pg_fatal_input("importing a statistics profile needs a superuser; connected as \"%s\"",
					   PQuser(conn));
	PQclear(res);
	exec_or_fail(conn, "BEGIN", path);
	/* the import's own statements are no application's: not recorded */
	exec_or_fail(conn, "SET LOCAL guard.mode = off", path);
	exec_or_fail(conn, "SET LOCAL search_path = pg_catalog, pg_temp", path);
	exec_or_fail(conn, "SET LOCAL datestyle = 'ISO, YMD'", path);
	exec_or_fail(conn, "SET LOCAL timezone = 'UTC'", path);
	exec_or_fail(conn, "LOCK TABLE guard.stats_profile, guard.stats_relations, guard.stats_columns "
				 "IN SHARE ROW EXCLUSIVE MODE", path);
	exec_or_fail(conn, "DELETE FROM guard.stats_columns", path);
	exec_or_fail(conn, "DELETE FROM guard.stats_relations", path);
	exec_or_fail(conn, "DELETE FROM guard.stats_profile", path);
	{
		const char *v[4];

		v[0] = p.source ? p.source : path;
		v[1] = p.server_version;
		v[2] = p.exported_at;
		v[3] = growth ? growth : "1";
		res = PQexecParams(conn,
						   "INSERT INTO guard.stats_profile (source, server_version, exported_at, growth) "
						   "VALUES ($1, $2, $3::pg_catalog.timestamptz, $4::pg_catalog.float8)",
						   4, NULL, v, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			import_failed(conn, res, path, 1, 1, "header");
		PQclear(res);
	}
	res = PQprepare(conn, "rel",
					"INSERT INTO guard.stats_relations (schemaname, relname, relkind, reltuples, "
					"  relpages, relallvisible, curpages, tree_height) "
					"VALUES ($1, $2, $3, $4::pg_catalog.float8, $5::pg_catalog.int8, "
					"  COALESCE($6::pg_catalog.int8, 0), $7::pg_catalog.int8, "
					"  $8::pg_catalog.int4)", 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		import_failed(conn, res, path, 0, 0, NULL);
	PQclear(res);
	res = PQprepare(conn, "col",
					"INSERT INTO guard.stats_columns (schemaname, relname, attname, inherited, "
					"  atttype, null_frac, avg_width, n_distinct, most_common_vals, "
					"  most_common_freqs, histogram_bounds, correlation, most_common_elems, "
					"  most_common_elem_freqs, elem_count_histogram, range_length_histogram, "
					"  range_empty_frac, range_bounds_histogram) "
					"VALUES ($1, $2, $3, $4::pg_catalog.bool, $5, $6::pg_catalog.float4, "
					"  $7::pg_catalog.int4, $8::pg_catalog.float4, $9, $10::pg_catalog.float4[], "
					"  $11, $12::pg_catalog.float4, $13, $14::pg_catalog.float4[], "
					"  $15::pg_catalog.float4[], $16, $17::pg_catalog.float4, $18)", 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		import_failed(conn, res, path, 0, 0, NULL);
	PQclear(res);
	for (int i = 0; i < p.nrels; i++)
	{
		StatsRelation *rel = &p.rels[i];

		res = PQexecPrepared(conn, "rel", STATS_REL_FIELDS, (const char *const *) rel->f,
							 NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			import_failed(conn, res, path, rel->line, rel->column, "relation");
		PQclear(res);
		for (int c = 0; c < rel->ncols; c++)
		{
			const char *v[STATS_COL_FIELDS + 2];

			v[0] = rel->f[0];
			v[1] = rel->f[1];
			for (int f = 0; f < STATS_COL_FIELDS; f++)
				v[f + 2] = rel->cols[c].f[f];
			res = PQexecPrepared(conn, "col", STATS_COL_FIELDS + 2, v, NULL, NULL, 0);
			if (PQresultStatus(res) != PGRES_COMMAND_OK)
				import_failed(conn, res, path, rel->cols[c].line, rel->cols[c].column, "column");
			PQclear(res);
			ncols++;
		}
	}
	/*
	 * Each relation is the one that exists now (0: none): one created
	 * under its name later, by whoever may, does not get its statistics.
	 */
	exec_or_fail(conn, "UPDATE guard.stats_relations "
				 "   SET relid = COALESCE(pg_catalog.to_regclass(pg_catalog.format('%I.%I', schemaname, relname))::pg_catalog.oid, 0)",
				 path);
	/* every value, built as the planner will: the first bad one is named */
	res = PQexec(conn, "SELECT guard.stats_profile_check()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		const StatsColumn *bad = NULL;
		const char *context = PQresultErrorField(res, PG_DIAG_CONTEXT);

		/* the context names the column: "statistics of column S.T.C in ..." */
		for (int i = 0; context != NULL && bad == NULL && i < p.nrels; i++)
			for (int c = 0; bad == NULL && c < p.rels[i].ncols; c++)
			{
				char		name[3 * MAX_NAME_BYTES + 64];

				snprintf(name, sizeof(name), "statistics of column %s.%s.%s in the statistics profile",
						 p.rels[i].f[0], p.rels[i].f[1], p.rels[i].cols[c].f[0]);
				if (strstr(context, name) != NULL)
					bad = &p.rels[i].cols[c];
			}
		if (bad != NULL)
			import_failed(conn, res, path, bad->line, bad->column, "column");
		import_failed(conn, res, path, 0, 0, NULL);
	}
	PQclear(res);
	if (enable)
		exec_or_fail(conn, "DO $$BEGIN EXECUTE pg_catalog.format("
					 "'ALTER DATABASE %I SET guard.stats_profile = on', "
					 "pg_catalog.current_database()); END$$", path);
	res = PQexec(conn, "SELECT kind, schemaname, relname, attname, reason "
				 "  FROM guard.stats_profile_fallbacks ORDER BY 2, 3, 1 DESC, 4");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		import_failed(conn, res, path, 0, 0, NULL);
	nfallbacks = PQntuples(res);
	for (int i = 0; i < nfallbacks && i < 20; i++)
		fprintf(stderr, "%s: fallback: %s %s.%s%s%s: %s\n", progname,
				PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
				PQgetisnull(res, i, 3) ? "" : ".", PQgetvalue(res, i, 3),
				PQgetvalue(res, i, 4));
	if (nfallbacks > 20)
		fprintf(stderr, "%s: ... and %d more (SELECT * FROM guard.stats_profile_fallbacks)\n",
				progname, nfallbacks - 20);
	PQclear(res);
	exec_or_fail(conn, "COMMIT", path);
	fprintf(stderr, "%s: imported the statistics of %d relation%s and %d column%s from \"%s\"%s%s%s\n",
			progname, p.nrels, p.nrels == 1 ? "" : "s", ncols, ncols == 1 ? "" : "s", path,
			growth ? " (growth " : "", growth ? growth : "", growth ? ")" : "");
	if (nfallbacks > 0)
		fprintf(stderr, "%s: %d relation%s or column%s keep this database's own statistics\n",
				progname, nfallbacks, nfallbacks == 1 ? "" : "s", nfallbacks == 1 ? "" : "s");
	stats_free(&p);
}

/*
 * pg_guard stats import FILE [--growth F] [--enable]
 */
int
cmd_stats_import(int argc, char **argv)
{
	CommandOptions o = {.takes_growth = true,.takes_enable = true};
	int			first = parse_command_options(argc, argv, "stats import", &o);
	PGconn	   *conn;

	if (first >= argc)
		pg_fatal_usage("stats import needs a FILE");
	if (first + 1 < argc)
		pg_fatal_usage("too many arguments for stats import: \"%s\"", argv[first + 1]);
	conn = connect_database();
	stats_import_into(conn, argv[first], o.growth, o.enable);
	if (!o.enable)
	{
		PGresult   *res = PQexec(conn, "SELECT NULL AS " PG_GUARD_MARK ", pg_catalog.current_setting('guard.stats_profile', true)");

		if (PQresultStatus(res) == PGRES_TUPLES_OK && strcmp(PQgetvalue(res, 0, 1), "on") != 0)
			fprintf(stderr, "%s: the planner uses it where guard.stats_profile is on "
					"(ALTER DATABASE ... SET guard.stats_profile = on, or --enable)\n", progname);
		PQclear(res);
	}
	PQfinish(conn);
	return EXIT_CLEAN;
}
