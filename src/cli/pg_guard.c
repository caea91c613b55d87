/*-------------------------------------------------------------------------
 *
 * pg_guard.c
 *		pg_guard, guard's command-line tool: command line, connection.
 *
 *	pg_guard baseline export [-o FILE]
 *	pg_guard baseline import FILE [--replace]
 *	pg_guard diff OLD.yaml NEW.yaml
 *
 * Connection options follow PostgreSQL's client programs: -d DBNAME (or a
 * conninfo string or URI), -h HOST, -p PORT, -U USER, and the PG*
 * environment variables libpq reads.  Messages go to stderr, prefixed with
 * the program name; results to stdout or the -o file.
 *
 * IDENTIFICATION
 *		src/cli/pg_guard.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "pg_guard.h"

const char *progname = "pg_guard";

/* a temporary file to remove if the program exits before renaming it */
static const char *atexit_remove = NULL;

static void usage(FILE *out);

/* connection options, set by the commands' option parsing */
static char *opt_dbname = NULL;
static char *opt_host = NULL;
static char *opt_port = NULL;
static char *opt_user = NULL;

static const struct option command_options[] = {
	{"dbname", required_argument, NULL, 'd'},
	{"host", required_argument, NULL, 'h'},
	{"port", required_argument, NULL, 'p'},
	{"username", required_argument, NULL, 'U'},
	{"output", required_argument, NULL, 'o'},
	{"replace", no_argument, NULL, 'r'},
	{"baseline", required_argument, NULL, 'b'},
	{"format", required_argument, NULL, 'f'},
	{"min-rows", required_argument, NULL, 'm'},
	{"config", required_argument, NULL, 'c'},
	{"schema", required_argument, NULL, 'n'},
	{"growth", required_argument, NULL, 'g'},
	{"enable", no_argument, NULL, 'e'},
	{"stats", required_argument, NULL, 's'},
	{"no-values-for", required_argument, NULL, 'x'},
	{"help", no_argument, NULL, 'H'},
	{NULL, 0, NULL, 0}
};

/*
 * parse_command_options: the options of a command (argv[0] is its name);
 * an option it does not take is a usage error.  Returns the index of the
 * first argument that is not an option.
 */
int
parse_command_options(int argc, char **argv, const char *command, CommandOptions *o)
{
	int			c;
	char	   *end;

	o->min_rows = -1;
	optind = 1;
	argv[0] = (char *) progname;	/* getopt's messages name the program */
	while ((c = getopt_long(argc, argv, "d:h:p:U:o:n:", command_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'H':
				usage(stdout);
				exit(EXIT_CLEAN);
			case 'd':
				opt_dbname = optarg;
				break;
			case 'h':
				opt_host = optarg;
				break;
			case 'p':
				opt_port = optarg;
				break;
			case 'U':
				opt_user = optarg;
				break;
			case 'o':
				if (!o->takes_output)
					pg_fatal_usage("%s does not take -o", command);
				o->output = optarg;
				break;
			case 'r':
				if (!o->takes_replace)
					pg_fatal_usage("%s does not take --replace", command);
				o->replace = true;
				break;
			case 'b':
			case 'f':
			case 'm':
			case 'c':
				if (!o->takes_check)
					pg_fatal_usage("%s does not take --%s", command,
								   c == 'b' ? "baseline" : c == 'f' ? "format" :
								   c == 'c' ? "config" : "min-rows");
				if (c == 'b')
					o->baseline = optarg;
				else if (c == 'c')
					o->config = optarg;
				else if (c == 'f')
					o->format = optarg;
				else
				{
					errno = 0;
					o->min_rows = strtol(optarg, &end, 10);
					if (*optarg == '\0' || *end != '\0' || o->min_rows < 0 || errno != 0)
						pg_fatal_usage("--min-rows must be a number of rows, not \"%s\"", optarg);
				}
				break;
			case 'n':
				if (!o->takes_schema)
					pg_fatal_usage("%s does not take -n", command);
				o->schemas = realloc(o->schemas, sizeof(char *) * (o->nschemas + 1));
				if (o->schemas == NULL)
					pg_fatal_input("out of memory");
				o->schemas[o->nschemas++] = optarg;
				break;
			case 'g':
				{
					double		g;

					if (!o->takes_growth)
						pg_fatal_usage("%s does not take --growth", command);
					errno = 0;
					g = strtod(optarg, &end);
					if (*optarg == '\0' || *end != '\0' || errno != 0 || !(g > 0) || g > 1000000)
						pg_fatal_usage("--growth must be a number greater than 0 and at most 1000000, not \"%s\"",
									   optarg);
					o->growth = optarg;
				}
				break;
			case 'x':
				if (!o->takes_schema)
					pg_fatal_usage("%s does not take --no-values-for", command);
				o->no_values = realloc(o->no_values, sizeof(char *) * (o->nno_values + 1));
				if (o->no_values == NULL)
					pg_fatal_input("out of memory");
				o->no_values[o->nno_values++] = optarg;
				break;
			case 'e':
				if (!o->takes_enable)
					pg_fatal_usage("%s does not take --enable", command);
				o->enable = true;
				break;
			case 's':
				if (!o->takes_check)
					pg_fatal_usage("%s does not take --stats", command);
				o->stats = optarg;
				break;
			default:
				pg_fatal_usage("invalid option for %s", command);
		}
	}
	return optind;
}

static void
usage(FILE *out)
{
	fprintf(out,
			"pg_guard checks query plans against a reviewed baseline of guard decisions.\n"
			"\n"
			"Usage:\n"
			"  pg_guard baseline export [OPTION]... [-o FILE]\n"
			"  pg_guard baseline import [OPTION]... FILE [--replace]\n"
			"  pg_guard diff OLD.yaml NEW.yaml\n"
			"  pg_guard stats export [OPTION]... [-n SCHEMA]... [--no-values-for NAME]... [-o FILE]\n"
			"  pg_guard stats import [OPTION]... FILE [--growth F] [--enable]\n"
			"  pg_guard check [OPTION]... --baseline FILE [--config FILE] [--min-rows N]\n"
			"                 [--stats FILE [--growth F]] [--format FMT] [-o FILE] [SQLFILE]...\n"
			"\n"
			"Commands:\n"
			"  baseline export   write the database's guard.baseline as YAML (stdout or -o FILE)\n"
			"  baseline import   load a YAML baseline into guard.baseline, all or nothing;\n"
			"                    --replace makes the table exactly the file\n"
			"  diff              what NEW approves, rejects, changes or drops against OLD\n"
			"  stats export      write the planner's statistics of the database (sizes of\n"
			"                    tables and indexes, column statistics) as YAML\n"
			"  stats import      load a statistics profile into a staging database, all or\n"
			"                    nothing; the planner uses it where guard.stats_profile is on\n"
			"  check             the statements the database observed, and those of the SQL\n"
			"                    files (planned, never executed), against a baseline file:\n"
			"                    unchanged, changed, new, or regressions (exit 1)\n"
			"\n"
			"Connection options:\n"
			"  -d, --dbname=DBNAME      database name or connection string\n"
			"  -h, --host=HOSTNAME      database server host or socket directory\n"
			"  -p, --port=PORT          database server port\n"
			"  -U, --username=USERNAME  database user name\n"
			"\n"
			"Other options:\n"
			"  -o, --output=FILE        write to FILE instead of stdout\n"
			"      --replace            (import) delete the decisions the file does not hold\n"
			"      --baseline=FILE      (check) the reviewed baseline file\n"
			"      --format=FMT         (check) text (default), json, junit, github or html\n"
			"      --min-rows=N         (check) relations read sequentially from N rows on are\n"
			"                           large (default: the config's, or the server's\n"
			"                           guard.seqscan_min_rows)\n"
			"      --config=FILE        (check) thresholds, relations and ignore rules\n"
			"      --stats=FILE         (check) import this statistics profile and plan under it\n"
			"  -n, --schema=SCHEMA      (stats export) only this schema (repeatable)\n"
			"      --no-values-for=NAME (stats export) no data values (most common values,\n"
			"                           histograms) of schema.table or schema.table.column\n"
			"      --growth=F           (stats import, check) plan at F times production's size\n"
			"      --enable             (stats import) ALTER DATABASE ... SET guard.stats_profile = on\n"
			"  -V, --version            output version information, then exit\n"
			"  -?, --help               show this help, then exit\n"
			"\n"
			"Exit status: 0 clean, 1 changes or regressions found, 2 usage, connection or\n"
			"input error.  See doc/pg_guard.md.\n");
}

void
pg_fatal_usage(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "%s: error: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry \"%s --help\" for more information.\n", progname);
	exit(EXIT_TROUBLE);
}

void
pg_fatal_input(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "%s: error: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (atexit_remove != NULL)
		unlink(atexit_remove);
	exit(EXIT_TROUBLE);
}

/* growbuf_put: append n bytes of s to the GrowBuf buf (a textparams.h callback) */
void
growbuf_put(void *buf, const char *s, size_t n)
{
	GrowBuf    *b = buf;

	if (b->len + n + 1 > b->size)
	{
		b->size = (b->len + n + 1) * 2;
		b->data = realloc(b->data, b->size);
		if (b->data == NULL)
			pg_fatal_input("out of memory");
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void *
pg_malloc0_or_die(size_t size)
{
	void	   *p = calloc(1, size ? size : 1);

	if (p == NULL)
		pg_fatal_input("out of memory");
	return p;
}

char *
pg_strdup_or_die(const char *s)
{
	char	   *p = strdup(s);

	if (p == NULL)
		pg_fatal_input("out of memory");
	return p;
}

/*
 * write_file_atomically: writer's output to path (stdout if NULL), through
 * a temporary file renamed over path only once complete: a failed write
 * never leaves a truncated file where the last good one was.
 */
void
write_file_atomically(const char *path, void (*writer) (FILE *out, const void *arg),
					  const void *arg)
{
	char		tmp[4096];
	FILE	   *out;

	if (path == NULL)
	{
		writer(stdout, arg);
		if (fflush(stdout) != 0 || ferror(stdout))
			pg_fatal_input("could not write to stdout: %m");
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int) getpid());
	if ((out = fopen(tmp, "w")) == NULL)
		pg_fatal_input("could not open file \"%s\" for writing: %m", tmp);
	atexit_remove = tmp;
	writer(out, arg);
	if (fflush(out) != 0 || ferror(out) || fsync(fileno(out)) != 0 || fclose(out) != 0)
		pg_fatal_input("could not write file \"%s\": %m", tmp);
	if (rename(tmp, path) != 0)
		pg_fatal_input("could not rename file \"%s\" to \"%s\": %m", tmp, path);
	atexit_remove = NULL;
}

/*
 * server_message: the primary message of res (else of conn's last error),
 * without libpq's "ERROR:  " prefix and trailing newline.
 */
const char *
server_message(PGconn *conn, const PGresult *res)
{
	static char buf[1024];
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	size_t		len;

	if (m == NULL)
		m = PQerrorMessage(conn);
	snprintf(buf, sizeof(buf), "%s", m);
	len = strlen(buf);
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return buf[0] ? buf : "unknown error";
}

/*
 * connect_database: a connection made from the options and the PG*
 * environment; -d may be a connection string, which the other options
 * then override, as in psql.
 */
PGconn *
connect_database(void)
{
	const char *keywords[7];
	const char *values[7];
	int			i = 0;
	PGconn	   *conn;

	keywords[i] = "dbname";
	values[i++] = opt_dbname;
	keywords[i] = "host";
	values[i++] = opt_host;
	keywords[i] = "port";
	values[i++] = opt_port;
	keywords[i] = "user";
	values[i++] = opt_user;
	keywords[i] = "fallback_application_name";
	values[i++] = progname;
	/* texts travel as UTF-8, whatever the environment says */
	keywords[i] = "client_encoding";
	values[i++] = "UTF8";
	keywords[i] = NULL;
	values[i] = NULL;
	conn = PQconnectdbParams(keywords, values, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		pg_fatal_input("could not connect to the database: %s",
					   conn ? server_message(conn, NULL) : "out of memory");
	return conn;
}

int
main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0))
	{
		usage(stdout);
		return EXIT_CLEAN;
	}
	if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0))
	{
		printf("pg_guard (guard) %s\n", PG_GUARD_VERSION);
		return EXIT_CLEAN;
	}
	if (argc < 2)
		pg_fatal_usage("no command given");

	if (strcmp(argv[1], "baseline") == 0)
	{
		if (argc < 3)
			pg_fatal_usage("baseline needs a subcommand: export or import");
		if (strcmp(argv[2], "export") == 0)
			return cmd_baseline_export(argc - 2, argv + 2);
		if (strcmp(argv[2], "import") == 0)
			return cmd_baseline_import(argc - 2, argv + 2);
		pg_fatal_usage("unknown baseline subcommand \"%s\"", argv[2]);
	}
	if (strcmp(argv[1], "stats") == 0)
	{
		if (argc < 3)
			pg_fatal_usage("stats needs a subcommand: export or import");
		if (strcmp(argv[2], "export") == 0)
			return cmd_stats_export(argc - 2, argv + 2);
		if (strcmp(argv[2], "import") == 0)
			return cmd_stats_import(argc - 2, argv + 2);
		pg_fatal_usage("unknown stats subcommand \"%s\"", argv[2]);
	}
	if (strcmp(argv[1], "diff") == 0)
		return cmd_diff(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	pg_fatal_usage("unknown command \"%s\"", argv[1]);
}
