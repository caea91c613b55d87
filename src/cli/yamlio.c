/*-------------------------------------------------------------------------
 *
 * yamlio.c
 *		pg_guard's YAML: the "guard-baseline" file, written and read.  The
 *		only file that includes <yaml.h>.
 *
 * Writing is deterministic: keys in a fixed order, hashes as quoted
 * signed decimals (as SQL prints them), single-line texts double-quoted,
 * multi-line texts as literal blocks (libyaml falls back to a quoted style
 * when a text cannot be one), no line folding, no anchors.
 *
 * Reading is strict, and every error names the file, line and column:
 * the input is capped (MAX_INPUT_BYTES), must be one document, must say
 * "format: guard-baseline" and a known version, may not use anchors and
 * aliases or tags other than the standard ones, may not repeat a key or a
 * (query_hash, plan_hash) pair, and every field has its type and bounds.
 * Nothing is kept of an input that fails: the caller exits.
 *
 * IDENTIFICATION
 *		src/cli/yamlio.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <yaml.h>

#include "pg_guard.h"

#define FORMAT_NAME		"guard-baseline"
#define STATS_FORMAT	"guard-stats"
#define FORMAT_VERSION	1

/* ---------------------------------------------------------------------
 * Writing
 * ---------------------------------------------------------------------
 */
typedef struct Writer
{
	yaml_emitter_t emitter;
	FILE	   *out;
} Writer;

static void
emit(Writer *w, yaml_event_t *event)
{
	if (!yaml_emitter_emit(&w->emitter, event))
		pg_fatal_input("could not write YAML: %s",
					   w->emitter.problem ? w->emitter.problem : "unknown error");
}

static void
emit_scalar(Writer *w, const char *value, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	if (value == NULL)
	{
		yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *) YAML_NULL_TAG,
									 (yaml_char_t *) "null", 4, 1, 0, YAML_PLAIN_SCALAR_STYLE);
		emit(w, &ev);
		return;
	}
	if (!yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *) YAML_STR_TAG,
									  (yaml_char_t *) value, (int) strlen(value),
									  style == YAML_PLAIN_SCALAR_STYLE,
									  style != YAML_PLAIN_SCALAR_STYLE, style))
		pg_fatal_input("a text is not valid UTF-8 (the database's encoding is not UTF8?): %.60s",
					   value);
	emit(w, &ev);
}

static void
emit_key(Writer *w, const char *key)
{
	emit_scalar(w, key, YAML_PLAIN_SCALAR_STYLE);
}

/* a text: a literal block if it spans lines, else double-quoted */
static void
emit_text(Writer *w, const char *value)
{
	emit_scalar(w, value, value != NULL && strchr(value, '\n') != NULL ?
				YAML_LITERAL_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

static void
emit_int(Writer *w, const char *key, long long v, bool quoted)
{
	char		buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	emit_key(w, key);
	emit_scalar(w, buf, quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE);
}

static void
mapping_start(Writer *w)
{
	yaml_event_t ev;

	yaml_mapping_start_event_initialize(&ev, NULL, (yaml_char_t *) YAML_MAP_TAG, 1,
										YAML_BLOCK_MAPPING_STYLE);
	emit(w, &ev);
}

static void
mapping_end(Writer *w)
{
	yaml_event_t ev;

	yaml_mapping_end_event_initialize(&ev);
	emit(w, &ev);
}

static void
sequence_start(Writer *w, bool flow)
{
	yaml_event_t ev;

	yaml_sequence_start_event_initialize(&ev, NULL, (yaml_char_t *) YAML_SEQ_TAG, 1,
										 flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
	emit(w, &ev);
}

static void
sequence_end(Writer *w)
{
	yaml_event_t ev;

	yaml_sequence_end_event_initialize(&ev);
	emit(w, &ev);
}

static int
write_handler(void *data, unsigned char *buffer, size_t size)
{
	Writer	   *w = data;

	return fwrite(buffer, 1, size, w->out) == size;
}

/*
 * document_start: a file's one document opened on out, its top mapping
 * begun with "format" and "version" (the same emitter settings for every
 * file pg_guard writes: UTF-8, no line folding, indent 2).
 */
static void
document_start(Writer *w, FILE *out, const char *format_name)
{
	yaml_event_t ev;

	memset(w, 0, sizeof(*w));
	w->out = out;
	if (!yaml_emitter_initialize(&w->emitter))
		pg_fatal_input("out of memory");
	yaml_emitter_set_output(&w->emitter, write_handler, w);
	yaml_emitter_set_unicode(&w->emitter, 1);
	yaml_emitter_set_width(&w->emitter, -1);
	yaml_emitter_set_indent(&w->emitter, 2);

	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	emit(w, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	emit(w, &ev);
	mapping_start(w);
	emit_key(w, "format");
	emit_scalar(w, format_name, YAML_PLAIN_SCALAR_STYLE);
	emit_int(w, "version", FORMAT_VERSION, false);
}

/* document_end: the top mapping, the document and the stream closed */
static void
document_end(Writer *w)
{
	yaml_event_t ev;

	mapping_end(w);
	yaml_document_end_event_initialize(&ev, 1);
	emit(w, &ev);
	yaml_stream_end_event_initialize(&ev);
	emit(w, &ev);
	yaml_emitter_delete(&w->emitter);
}

/* the relations the plan reads by Seq Scan, as a flow list */
static void
emit_seqscans(Writer *w, const char *plan)
{
	char	  **names;
	int			n = plan_seqscans(plan, &names);
	int			i;

	sequence_start(w, true);
	for (i = 0; i < n; i++)
		emit_scalar(w, names[i], YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	sequence_end(w);
	free_names(names, n);
}

/* yaml_write_baseline: b (sorted by the caller) as a guard-baseline file */
void
yaml_write_baseline(FILE *out, const Baseline *b)
{
	Writer		w;
	int			i;

	document_start(&w, out, FORMAT_NAME);
	emit_key(&w, "entries");
	sequence_start(&w, false);
	for (i = 0; i < b->n; i++)
	{
		const BaselineEntry *e = &b->entries[i];

		mapping_start(&w);
		emit_int(&w, "query_hash", (long long) e->query_hash, true);
		emit_int(&w, "plan_hash", (long long) e->plan_hash, true);
		emit_int(&w, "fingerprint_rules", e->rules, false);
		emit_key(&w, "status");
		emit_scalar(&w, e->status, YAML_PLAIN_SCALAR_STYLE);
		emit_key(&w, "note");
		emit_text(&w, e->note);
		emit_key(&w, "created_by");
		emit_text(&w, e->created_by);
		emit_key(&w, "created_at");
		emit_text(&w, e->created_at);
		emit_key(&w, "expires_at");
		emit_text(&w, e->expires_at);
		emit_key(&w, "query_role");
		emit_text(&w, e->query_role);
		emit_key(&w, "query");
		emit_text(&w, e->query);
		emit_key(&w, "plan");
		emit_text(&w, e->plan);
		emit_key(&w, "seqscans");
		emit_seqscans(&w, e->plan);
		mapping_end(&w);
	}
	sequence_end(&w);
	document_end(&w);
}

/* ---------------------------------------------------------------------
 * Reading
 * ---------------------------------------------------------------------
 */
typedef struct Reader
{
	const char *path;
	yaml_document_t doc;
	unsigned char *used;		/* per node: already reached (aliases) */
	int			nnodes;
} Reader;

/*
 * What a read holds, released on every way out: fail_input exits, and
 * the fuzz target (fuzz_yaml.c) turns that exit into a return, so the
 * error paths must leak nothing either.
 */
static struct
{
	FILE	   *in;
	yaml_parser_t *parser;
	yaml_document_t *doc;
	yaml_document_t *extra;
	unsigned char *used;
	BaselineEntry **order;
	Baseline   *b;
	CheckConfig *config;
	StatsProfile *stats;
	char	   *pending;		/* a string read, not stored yet */
} held;

static void
free_entry(BaselineEntry *e)
{
	free(e->status);
	free(e->note);
	free(e->created_by);
	free(e->created_at);
	free(e->expires_at);
	free(e->query_role);
	free(e->query);
	free(e->plan);
}

/* baseline_free: what yaml_read_baseline gave */
void
baseline_free(Baseline *b)
{
	int			i;

	for (i = 0; i < b->n; i++)
		free_entry(&b->entries[i]);
	free(b->entries);
	b->entries = NULL;
	b->n = 0;
}

static void
release_held(bool failed)
{
	int			i;

	if (held.in)
		fclose(held.in);
	if (held.parser)
		yaml_parser_delete(held.parser);
	if (held.doc)
		yaml_document_delete(held.doc);
	if (held.extra)
		yaml_document_delete(held.extra);
	free(held.used);
	free(held.order);
	free(held.pending);
	if (failed && held.config != NULL)
		check_config_free(held.config);
	if (failed && held.stats != NULL)
		stats_free(held.stats);
	if (failed && held.b != NULL)
	{
		for (i = 0; i < held.b->n; i++)
			free_entry(&held.b->entries[i]);
		free(held.b->entries);
		held.b->entries = NULL;
		held.b->n = 0;
	}
	memset(&held, 0, sizeof(held));
}

/* an error at a 0-based line and column of path; exits */
static void
fail_input(const char *path, size_t line, size_t column, const char *problem,
		   const char *context)
{
	fprintf(stderr, "%s: error: %s:%lu:%lu: %s%s%s\n", progname, path,
			(unsigned long) line + 1, (unsigned long) column + 1, problem,
			context ? " " : "", context ? context : "");
	fprintf(stderr, "%s: nothing was read from \"%s\"\n", progname, path);
	release_held(true);
	exit(EXIT_TROUBLE);
}

static void
fail_at(Reader *r, yaml_node_t *node, const char *fmt, const char *arg)
{
	char		msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	fail_input(r->path, node->start_mark.line, node->start_mark.column, msg, NULL);
}

/* a node reached through the document; each may be reached once */
static yaml_node_t *
node_at(Reader *r, int id, yaml_node_t *from)
{
	yaml_node_t *node = yaml_document_get_node(&r->doc, id);

	if (node == NULL)
		fail_at(r, from, "%s", "damaged document");
	if (r->used[id])
		fail_at(r, node, "%s", "anchors and aliases are not allowed");
	r->used[id] = 1;
	/* only the standard tags: no !!binary, no custom ones */
	if (node->tag != NULL &&
		strcmp((char *) node->tag, YAML_STR_TAG) != 0 &&
		strcmp((char *) node->tag, YAML_INT_TAG) != 0 &&
		strcmp((char *) node->tag, YAML_NULL_TAG) != 0 &&
		strcmp((char *) node->tag, YAML_MAP_TAG) != 0 &&
		strcmp((char *) node->tag, YAML_SEQ_TAG) != 0)
		fail_at(r, node, "tag %s is not allowed", (char *) node->tag);
	return node;
}

static bool
is_null(yaml_node_t *node)
{
	const char *v;

	if (node->type != YAML_SCALAR_NODE ||
		node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *) node->data.scalar.value;
	return strcmp(v, "null") == 0 || strcmp(v, "~") == 0 || v[0] == '\0' ||
		strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* a string (or NULL for null when nullable), at most max bytes */
static char *
get_string(Reader *r, yaml_node_t *node, const char *key, bool nullable, size_t max)
{
	if (node->type != YAML_SCALAR_NODE)
		fail_at(r, node, "%s must be a string", key);
	/* an explicit !!null must be a null; !!int is no string */
	if (node->tag != NULL && strcmp((char *) node->tag, YAML_NULL_TAG) == 0 && !is_null(node))
		fail_at(r, node, "%s: a !!null value must be null", key);
	if (node->tag != NULL && strcmp((char *) node->tag, YAML_INT_TAG) == 0 &&
		strcmp(key, "query_hash") != 0 && strcmp(key, "plan_hash") != 0 &&
		strcmp(key, "fingerprint_rules") != 0 && strcmp(key, "version") != 0 &&
		strcmp(key, "min_rows") != 0)
		fail_at(r, node, "%s must be a string, not !!int", key);
	if (is_null(node))
	{
		if (!nullable)
			fail_at(r, node, "%s must not be null", key);
		return NULL;
	}
	if (node->data.scalar.length > max)
		fail_at(r, node, "%s is too long", key);
	if (memchr(node->data.scalar.value, '\0', node->data.scalar.length) != NULL)
		fail_at(r, node, "%s contains a NUL character", key);
	return pg_strdup_or_die((const char *) node->data.scalar.value);
}

static int64_t
get_int64(Reader *r, yaml_node_t *node, const char *key)
{
	char	   *s = get_string(r, node, key, false, 32);
	char	   *end;
	long long	v;

	held.pending = s;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || (s[0] == '0' && s[1] != '\0') ||
		(s[0] == '-' && s[1] == '0') || !(s[0] == '-' || isdigit((unsigned char) s[0])))
		fail_at(r, node, "%s must be a 64-bit integer written in decimal", key);
	held.pending = NULL;
	free(s);
	return (int64_t) v;
}

/* the value of key in mapping map, or NULL if missing */
static yaml_node_t *
lookup(Reader *r, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *pair;

	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++)
	{
		yaml_node_t *k = yaml_document_get_node(&r->doc, pair->key);

		if (k != NULL && k->type == YAML_SCALAR_NODE &&
			strcmp((char *) k->data.scalar.value, key) == 0)
			return yaml_document_get_node(&r->doc, pair->value);
	}
	return NULL;
}

/*
 * check_keys: every key of map is a plain string among allowed, none
 * twice, and every required one is there (names: NULL-terminated).
 */
static void
check_keys(Reader *r, yaml_node_t *map, const char *const *allowed,
		   const char *const *required, const char *what)
{
	yaml_node_pair_t *pair;
	int			i;

	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++)
	{
		yaml_node_t *k = node_at(r, pair->key, map);
		yaml_node_pair_t *other;
		bool		known = false;

		if (k->type != YAML_SCALAR_NODE)
			fail_at(r, k, "keys of %s must be strings", what);
		for (i = 0; allowed[i]; i++)
			if (strcmp((char *) k->data.scalar.value, allowed[i]) == 0)
				known = true;
		if (!known)
			fail_at(r, k, "unknown key \"%s\"", (char *) k->data.scalar.value);
		for (other = map->data.mapping.pairs.start; other < pair; other++)
		{
			yaml_node_t *k2 = yaml_document_get_node(&r->doc, other->key);

			if (strcmp((char *) k2->data.scalar.value, (char *) k->data.scalar.value) == 0)
				fail_at(r, k, "key \"%s\" appears twice", (char *) k->data.scalar.value);
		}
	}
	for (i = 0; required[i]; i++)
		if (lookup(r, map, required[i]) == NULL)
			fail_at(r, map, "missing key \"%s\"", required[i]);
}

/*
 * check_time: a time as export writes it, or one a reader can only read
 * one way: YYYY-MM-DD, optionally THH:MM:SS[.fraction] and a zone (Z or
 * +HH[:MM]; none: UTC, as import runs in UTC), optionally " BC"; or
 * infinity / -infinity.  Not "now", "tomorrow" or 01/02/2027, whose meaning
 * depends on when, where and how the server reads them.
 */
static void
check_time(Reader *r, yaml_node_t *entry, const char *key, const char *v)
{
	const char *p = v;
	int			i;
	bool		ok = true;

	if (v == NULL || strcmp(v, "infinity") == 0 || strcmp(v, "-infinity") == 0)
		return;
	for (i = 0; i < 10 && ok; i++)
		ok = (i == 4 || i == 7) ? p[i] == '-' : isdigit((unsigned char) p[i]);
	p += 10;
	if (ok && (*p == 'T' || *p == ' ') && isdigit((unsigned char) p[1]))
	{
		for (i = 1; i < 9 && ok; i++)
			ok = (i == 3 || i == 6) ? p[i] == ':' : isdigit((unsigned char) p[i]);
		p += 9;
		if (ok && *p == '.')
		{
			p++;
			ok = isdigit((unsigned char) *p);
			while (isdigit((unsigned char) *p))
				p++;
		}
		if (ok && *p == 'Z')
			p++;
		else if (ok && (*p == '+' || *p == '-'))
		{
			ok = isdigit((unsigned char) p[1]) && isdigit((unsigned char) p[2]);
			p += 3;
			if (ok && *p == ':')
			{
				ok = isdigit((unsigned char) p[1]) && isdigit((unsigned char) p[2]);
				p += 3;
			}
		}
	}
	if (ok && strcmp(p, " BC") == 0)
		p += 3;
	if (!ok || *p != '\0')
	{
		yaml_node_t *v_node = lookup(r, entry, key);

		fail_at(r, v_node ? v_node : entry,
				"%s must be a time written YYYY-MM-DDTHH:MM:SS[.ffffff][Z|+HH:MM], or infinity", key);
	}
}

static void
read_entry(Reader *r, yaml_node_t *node, BaselineEntry *e)
{
	static const char *const allowed[] = {"query_hash", "plan_hash", "fingerprint_rules",
		"status", "note", "created_by", "created_at", "expires_at", "query_role", "query",
	"plan", "seqscans", NULL};
	static const char *const required[] = {"query_hash", "plan_hash", "fingerprint_rules",
	"status", NULL};
	yaml_node_t *v;
	yaml_node_item_t *item;

	if (node->type != YAML_MAPPING_NODE)
		fail_at(r, node, "%s", "an entry must be a mapping");
	check_keys(r, node, allowed, required, "an entry");
	e->line = (int) node->start_mark.line + 1;
	e->column = (int) node->start_mark.column + 1;

	v = lookup(r, node, "query_hash");
	e->query_hash = get_int64(r, node_at(r, (int) (v - r->doc.nodes.start) + 1, node), "query_hash");
	v = lookup(r, node, "plan_hash");
	e->plan_hash = get_int64(r, node_at(r, (int) (v - r->doc.nodes.start) + 1, node), "plan_hash");
	v = lookup(r, node, "fingerprint_rules");
	{
		int64_t		rules = get_int64(r, node_at(r, (int) (v - r->doc.nodes.start) + 1, node),
									  "fingerprint_rules");

		if (rules < 1 || rules > 2)
			fail_at(r, v, "%s must be 1 or 2", "fingerprint_rules");
		e->rules = (int) rules;
	}
	v = lookup(r, node, "status");
	e->status = get_string(r, node_at(r, (int) (v - r->doc.nodes.start) + 1, node), "status",
						   false, 16);
	if (strcmp(e->status, "approved") != 0 && strcmp(e->status, "rejected") != 0)
		fail_at(r, v, "status must be approved or rejected, not \"%s\"", e->status);

#define OPTIONAL_TEXT(field, max) \
	do { \
		v = lookup(r, node, #field); \
		e->field = v == NULL ? NULL : \
			get_string(r, node_at(r, (int) (v - r->doc.nodes.start) + 1, node), #field, true, (max)); \
	} while (0)
	OPTIONAL_TEXT(note, MAX_TEXT_BYTES);
	OPTIONAL_TEXT(created_by, 63);
	OPTIONAL_TEXT(created_at, 64);
	OPTIONAL_TEXT(expires_at, 64);
	check_time(r, node, "created_at", e->created_at);
	check_time(r, node, "expires_at", e->expires_at);
	OPTIONAL_TEXT(query_role, 63);
	OPTIONAL_TEXT(query, MAX_TEXT_BYTES);
	OPTIONAL_TEXT(plan, MAX_TEXT_BYTES);
#undef OPTIONAL_TEXT

	/* derived from plan on export: checked for its type, not used */
	v = lookup(r, node, "seqscans");
	if (v != NULL)
	{
		v = node_at(r, (int) (v - r->doc.nodes.start) + 1, node);
		if (v->type != YAML_SEQUENCE_NODE)
			fail_at(r, v, "%s must be a list", "seqscans");
		for (item = v->data.sequence.items.start; item < v->data.sequence.items.top; item++)
		{
			held.pending = get_string(r, node_at(r, *item, v), "a seqscans item", false, MAX_NAME_BYTES);
			free(held.pending);
			held.pending = NULL;
		}
	}
}

/*
 * read_header: the file's format (which must be format_name) and version
 * (which must be 1, the only one this pg_guard reads).
 */
static void
read_header(Reader *r, yaml_node_t *root, const char *format_name)
{
	yaml_node_t *v = lookup(r, root, "format");
	char	   *format;
	int64_t		version;
	char		buf[64];

	format = get_string(r, node_at(r, (int) (v - r->doc.nodes.start) + 1, root), "format", false, 64);
	held.pending = format;
	if (strcmp(format, format_name) != 0)
	{
		snprintf(buf, sizeof(buf), "format must be \"%s\", not \"%%s\"", format_name);
		fail_at(r, v, buf, format);
	}
	held.pending = NULL;
	free(format);
	v = lookup(r, root, "version");
	version = get_int64(r, node_at(r, (int) (v - r->doc.nodes.start) + 1, root), "version");
	if (version != 1)
	{
		snprintf(buf, sizeof(buf), "%lld", (long long) version);
		fail_at(r, v, "unknown version %s (this pg_guard reads version 1)", buf);
	}
}

/*
 * check_structure: before the document is built (libyaml builds it whole,
 * and deep nesting costs it quadratic time): no collection nested deeper
 * than MAX_DEPTH, no more nodes than the largest file needs.
 */
static void
check_structure(yaml_parser_t *parser, const char *path)
{
	yaml_event_t ev;
	int			depth = 0;
	long		nodes = 0;
	bool		done = false;

	while (!done)
	{
		if (!yaml_parser_parse(parser, &ev))
			fail_input(path, parser->problem_mark.line, parser->problem_mark.column,
					   parser->problem ? parser->problem : "malformed YAML", parser->context);
		switch (ev.type)
		{
			case YAML_SEQUENCE_START_EVENT:
			case YAML_MAPPING_START_EVENT:
				if (++depth > MAX_DEPTH)
				{
					size_t		line = ev.start_mark.line;
					size_t		column = ev.start_mark.column;

					yaml_event_delete(&ev);
					fail_input(path, line, column, "nested too deep", NULL);
				}
				nodes++;
				break;
			case YAML_SEQUENCE_END_EVENT:
			case YAML_MAPPING_END_EVENT:
				depth--;
				break;
			case YAML_SCALAR_EVENT:
			case YAML_ALIAS_EVENT:
				nodes++;
				break;
			case YAML_STREAM_END_EVENT:
				done = true;
				break;
			default:
				break;
		}
		yaml_event_delete(&ev);
		if (nodes > 40L * MAX_ENTRIES)
			fail_input(path, 0, 0, "too many values for a baseline or config file", NULL);
	}
}

/*
 * load_document: the one YAML document of the file at path, its root
 * node reached (what: "a baseline file", for messages).  The parser and the
 * document are held (released by release_held).
 */
static yaml_node_t *
load_document(Reader *r, const char *path, const char *what)
{
	static yaml_parser_t parser;
	static yaml_document_t extra;
	FILE	   *in;
	struct stat st;
	yaml_node_t *root;
	char		msg[128];

	memset(r, 0, sizeof(*r));
	r->path = path;
	/* a FIFO or a device would be read without end (or block the open) */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		fail_input(path, 0, 0, "not a regular file", NULL);
	if ((in = fopen(path, "rb")) == NULL)
	{
		char		msg[256];

		snprintf(msg, sizeof(msg), "could not open the file: %s", strerror(errno));
		fail_input(path, 0, 0, msg, NULL);
	}
	held.in = in;
	if (fstat(fileno(in), &st) != 0)
		fail_input(path, 0, 0, "could not stat the file", NULL);
	if (!S_ISREG(st.st_mode))
		fail_input(path, 0, 0, "not a regular file", NULL);
	if (st.st_size > MAX_INPUT_BYTES)
		fail_input(path, 0, 0, "file is too large (at most 256 MB)", NULL);
	if (!yaml_parser_initialize(&parser))
		fail_input(path, 0, 0, "out of memory", NULL);
	held.parser = &parser;
	yaml_parser_set_input_file(&parser, in);
	check_structure(&parser, path);
	yaml_parser_delete(&parser);
	held.parser = NULL;
	rewind(in);
	if (!yaml_parser_initialize(&parser))
		fail_input(path, 0, 0, "out of memory", NULL);
	held.parser = &parser;
	yaml_parser_set_input_file(&parser, in);
	if (!yaml_parser_load(&parser, &r->doc))
		fail_input(path, parser.problem_mark.line, parser.problem_mark.column,
				   parser.problem ? parser.problem : "malformed YAML",
				   parser.context);
	held.doc = &r->doc;
	root = yaml_document_get_root_node(&r->doc);
	if (root == NULL)
		fail_input(path, 0, 0, "the file holds no YAML document", NULL);
	if (!yaml_parser_load(&parser, &extra))
		fail_input(path, parser.problem_mark.line, parser.problem_mark.column,
				   parser.problem ? parser.problem : "malformed YAML",
				   parser.context);
	held.extra = &extra;
	snprintf(msg, sizeof(msg), "%s holds one YAML document", what);
	if (yaml_document_get_root_node(&extra) != NULL)
		fail_input(path, yaml_document_get_root_node(&extra)->start_mark.line,
				   yaml_document_get_root_node(&extra)->start_mark.column, msg, NULL);
	yaml_document_delete(&extra);
	held.extra = NULL;
	yaml_parser_delete(&parser);
	held.parser = NULL;
	fclose(in);
	held.in = NULL;

	r->nnodes = (int) (r->doc.nodes.top - r->doc.nodes.start);
	r->used = pg_malloc0_or_die(r->nnodes + 2);
	held.used = r->used;
	return node_at(r, 1, root);
}

static int
cmp_pair(const void *x, const void *y)
{
	const BaselineEntry *a = *(const BaselineEntry *const *) x;
	const BaselineEntry *b = *(const BaselineEntry *const *) y;

	if (a->query_hash != b->query_hash)
		return a->query_hash < b->query_hash ? -1 : 1;
	if (a->plan_hash != b->plan_hash)
		return a->plan_hash < b->plan_hash ? -1 : 1;
	return a->line - b->line;
}

/*
 * yaml_read_baseline: the file at path, checked; exits with status 2 and
 * a message naming the line and column of the first problem.
 */
void
yaml_read_baseline(const char *path, Baseline *b)
{
	static const char *const top_allowed[] = {"format", "version", "entries", NULL};
	Reader		r;
	yaml_node_t *root;
	yaml_node_t *v;
	yaml_node_t *entries;
	yaml_node_item_t *item;
	BaselineEntry **order;
	int			i;

	memset(&held, 0, sizeof(held));
	b->n = 0;
	b->entries = NULL;
	held.b = b;
	root = load_document(&r, path, "a baseline file");
	if (root->type != YAML_MAPPING_NODE)
		fail_at(&r, root, "%s", "a baseline file is a mapping with format, version and entries");
	check_keys(&r, root, top_allowed, top_allowed, "the file");

	read_header(&r, root, FORMAT_NAME);
	v = lookup(&r, root, "entries");
	entries = node_at(&r, (int) (v - r.doc.nodes.start) + 1, root);
	if (is_null(entries))
	{
		b->n = 0;
		b->entries = pg_malloc0_or_die(sizeof(BaselineEntry));
		release_held(false);
		return;
	}
	if (entries->type != YAML_SEQUENCE_NODE)
		fail_at(&r, entries, "%s", "entries must be a list");
	if (entries->data.sequence.items.top - entries->data.sequence.items.start > MAX_ENTRIES)
		fail_at(&r, entries, "%s", "too many entries");
	b->entries = pg_malloc0_or_die(sizeof(BaselineEntry) *
								   (entries->data.sequence.items.top -
									entries->data.sequence.items.start + 1));
	b->n = (int) (entries->data.sequence.items.top - entries->data.sequence.items.start);
	for (i = 0, item = entries->data.sequence.items.start;
		 item < entries->data.sequence.items.top; item++, i++)
		read_entry(&r, node_at(&r, *item, entries), &b->entries[i]);

	/* one decision per plan */
	order = pg_malloc0_or_die(sizeof(BaselineEntry *) * (b->n > 0 ? b->n : 1));
	held.order = order;
	for (i = 0; i < b->n; i++)
		order[i] = &b->entries[i];
	qsort(order, b->n, sizeof(BaselineEntry *), cmp_pair);
	for (i = 1; i < b->n; i++)
		if (order[i]->query_hash == order[i - 1]->query_hash &&
			order[i]->plan_hash == order[i - 1]->plan_hash)
		{
			char		msg[128];

			snprintf(msg, sizeof(msg),
					 "duplicate entry: the same query_hash and plan_hash as the entry at line %d",
					 order[i - 1]->line);
			fail_input(path, order[i]->line - 1, order[i]->column - 1, msg, NULL);
		}
	release_held(false);
}

/* ---------------------------------------------------------------------
 * The check's config file
 * ---------------------------------------------------------------------
 */
#define CONFIG_FORMAT	"guard-check"

/* a list of relation names ("schema.name"); *n counts them as they come */
static void
read_names(Reader *r, yaml_node_t *list, const char *key, char ***out, int *count)
{
	yaml_node_item_t *item;
	int			n = 0;

	if (list->type != YAML_SEQUENCE_NODE)
		fail_at(r, list, "%s must be a list of relation names", key);
	*out = pg_malloc0_or_die(sizeof(char *) *
							 (list->data.sequence.items.top - list->data.sequence.items.start + 1));
	for (item = list->data.sequence.items.start; item < list->data.sequence.items.top; item++)
	{
		yaml_node_t *v = node_at(r, *item, list);

		(*out)[n] = get_string(r, v, key, false, MAX_NAME_BYTES);
		*count = ++n;
		if (strchr((*out)[n - 1], '.') == NULL)
			fail_at(r, v, "%s: write a relation as schema.name", key);
	}
}

/* YYYY-MM-DD, a real date */
static bool
valid_date(const char *s)
{
	int			y;
	int			m;
	int			d;
	char		tail;
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (strlen(s) != 10 || !isdigit((unsigned char) s[0]) || !isdigit((unsigned char) s[1]) ||
		!isdigit((unsigned char) s[2]) || !isdigit((unsigned char) s[3]) || s[4] != '-' ||
		!isdigit((unsigned char) s[5]) || !isdigit((unsigned char) s[6]) || s[7] != '-' ||
		!isdigit((unsigned char) s[8]) || !isdigit((unsigned char) s[9]) ||
		sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
		return false;
	return y >= 2000 && m >= 1 && m <= 12 && d >= 1 && d <= days[m - 1] &&
		!(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/*
 * yaml_read_check_config: the file at path, checked (every error names
 * its line and column, and ends the check with status 2).  today is
 * YYYY-MM-DD (UTC): an ignore rule whose expiry is before it is expired.
 */
void
yaml_read_check_config(const char *path, CheckConfig *c)
{
	static const char *const top[] = {"format", "version", "min_rows", "must_not_seqscan",
	"allow_seqscan", "ignore", NULL};
	static const char *const top_required[] = {"format", "version", NULL};
	static const char *const rule_keys[] = {"query_hash", "query", "owner", "expires",
	"reason", NULL};
	static const char *const rule_required[] = {"owner", "expires", "reason", NULL};
	Reader		r;
	yaml_node_t *root;
	yaml_node_t *v;
	char		today[16];
	time_t		now = time(NULL);
	struct tm	tm;

	memset(c, 0, sizeof(*c));
	c->min_rows = -1;
	memset(&held, 0, sizeof(held));
	held.config = c;
	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	root = load_document(&r, path, "a config file");
	if (root->type != YAML_MAPPING_NODE)
		fail_at(&r, root, "%s", "a config file is a mapping with format and version");
	check_keys(&r, root, top, top_required, "the file");

	read_header(&r, root, CONFIG_FORMAT);

	if ((v = lookup(&r, root, "min_rows")) != NULL)
	{
		int64_t		m = get_int64(&r, node_at(&r, (int) (v - r.doc.nodes.start) + 1, root),
								  "min_rows");

		if (m < 0)
			fail_at(&r, v, "%s must not be negative", "min_rows");
		c->min_rows = (long) m;
	}
	if ((v = lookup(&r, root, "must_not_seqscan")) != NULL)
		read_names(&r, node_at(&r, (int) (v - r.doc.nodes.start) + 1, root),
				   "must_not_seqscan", &c->must_not_seqscan, &c->nmust_not);
	if ((v = lookup(&r, root, "allow_seqscan")) != NULL)
		read_names(&r, node_at(&r, (int) (v - r.doc.nodes.start) + 1, root),
				   "allow_seqscan", &c->allow_seqscan, &c->nallow);
	if ((v = lookup(&r, root, "ignore")) != NULL)
	{
		yaml_node_t *list = node_at(&r, (int) (v - r.doc.nodes.start) + 1, root);
		yaml_node_item_t *item;

		if (list->type != YAML_SEQUENCE_NODE)
			fail_at(&r, list, "%s must be a list", "ignore");
		c->ignore = pg_malloc0_or_die(sizeof(IgnoreRule) *
									  (list->data.sequence.items.top - list->data.sequence.items.start + 1));
		for (item = list->data.sequence.items.start; item < list->data.sequence.items.top; item++)
		{
			yaml_node_t *rule = node_at(&r, *item, list);
			IgnoreRule *ir = &c->ignore[c->nignore++];
			yaml_node_t *f;

			if (rule->type != YAML_MAPPING_NODE)
				fail_at(&r, rule, "%s", "an ignore rule must be a mapping");
			check_keys(&r, rule, rule_keys, rule_required, "an ignore rule");
			if ((lookup(&r, rule, "query_hash") == NULL) == (lookup(&r, rule, "query") == NULL))
				fail_at(&r, rule, "%s", "an ignore rule names its statement by query_hash or by query, one of the two");
			if ((f = lookup(&r, rule, "query_hash")) != NULL)
			{
				ir->has_hash = true;
				ir->query_hash = get_int64(&r, node_at(&r, (int) (f - r.doc.nodes.start) + 1, rule),
										   "query_hash");
			}
			if ((f = lookup(&r, rule, "query")) != NULL)
				ir->query = get_string(&r, node_at(&r, (int) (f - r.doc.nodes.start) + 1, rule),
									   "query", false, MAX_TEXT_BYTES);
			f = lookup(&r, rule, "owner");
			ir->owner = get_string(&r, node_at(&r, (int) (f - r.doc.nodes.start) + 1, rule),
								   "owner", false, 200);
			if (ir->owner[0] == '\0')
				fail_at(&r, f, "%s must not be empty", "owner");
			f = lookup(&r, rule, "reason");
			ir->reason = get_string(&r, node_at(&r, (int) (f - r.doc.nodes.start) + 1, rule),
									"reason", false, MAX_TEXT_BYTES);
			if (ir->reason[0] == '\0')
				fail_at(&r, f, "%s must not be empty", "reason");
			if (ir->query != NULL && ir->query[0] == '\0')
				fail_at(&r, lookup(&r, rule, "query"), "%s must not be empty", "query");
			f = lookup(&r, rule, "expires");
			ir->expires = get_string(&r, node_at(&r, (int) (f - r.doc.nodes.start) + 1, rule),
									 "expires", false, 16);
			if (!valid_date(ir->expires))
				fail_at(&r, f, "expires must be a date, YYYY-MM-DD, not \"%s\"", ir->expires);
			ir->expired = strcmp(ir->expires, today) < 0;
		}
	}
	release_held(false);
}

/* check_config_free: what yaml_read_check_config gave */
void
check_config_free(CheckConfig *c)
{
	int			i;

	for (i = 0; i < c->nmust_not; i++)
		free(c->must_not_seqscan[i]);
	free(c->must_not_seqscan);
	for (i = 0; i < c->nallow; i++)
		free(c->allow_seqscan[i]);
	free(c->allow_seqscan);
	for (i = 0; i < c->nignore; i++)
	{
		free(c->ignore[i].query);
		free(c->ignore[i].owner);
		free(c->ignore[i].expires);
		free(c->ignore[i].reason);
	}
	free(c->ignore);
	memset(c, 0, sizeof(*c));
}

/* ---------------------------------------------------------------------
 * The statistics profile file ("guard-stats")
 * ---------------------------------------------------------------------
 */
#define MAX_RELATIONS	100000
#define MAX_COLUMNS		1600	/* per relation, as PostgreSQL's MaxHeapAttributeNumber */

const char *const stats_rel_fields[STATS_REL_FIELDS] = {
	"schema", "name", "kind", "reltuples", "relpages", "relallvisible", "curpages",
	"tree_height"
};
const char *const stats_col_fields[STATS_COL_FIELDS] = {
	"name", "inherited", "type", "null_frac", "avg_width", "n_distinct",
	"most_common_vals", "most_common_freqs", "histogram_bounds", "correlation",
	"most_common_elems", "most_common_elem_freqs", "elem_count_histogram",
	"range_length_histogram", "range_empty_frac", "range_bounds_histogram"
};

/* how each field is written and checked */
enum
{
	F_NAME,						/* a name: quoted, required */
	F_WORD,						/* kind, inherited: plain, required */
	F_REAL,						/* a number: plain */
	F_INT,						/* an integer: plain */
	F_TEXT						/* an array literal or a type: quoted */
};
static const int rel_field_kind[STATS_REL_FIELDS] = {
	F_NAME, F_NAME, F_WORD, F_REAL, F_INT, F_INT, F_INT, F_INT
};
static const int col_field_kind[STATS_COL_FIELDS] = {
	F_NAME, F_WORD, F_NAME, F_REAL, F_INT, F_REAL, F_TEXT, F_TEXT, F_TEXT, F_REAL,
	F_TEXT, F_TEXT, F_TEXT, F_TEXT, F_REAL, F_TEXT
};

static void
emit_field(Writer *w, const char *key, const char *value, int kind)
{
	emit_key(w, key);
	if (value == NULL)
		emit_scalar(w, NULL, YAML_PLAIN_SCALAR_STYLE);
	else if (kind == F_NAME || kind == F_TEXT)
		emit_scalar(w, value, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	else
		emit_scalar(w, value, YAML_PLAIN_SCALAR_STYLE);
}

/* yaml_write_stats: p (sorted by the caller) as a guard-stats file */
void
yaml_write_stats(FILE *out, const StatsProfile *p)
{
	Writer		w;

	document_start(&w, out, STATS_FORMAT);
	emit_key(&w, "source");
	emit_text(&w, p->source);
	emit_key(&w, "server_version");
	emit_text(&w, p->server_version);
	emit_key(&w, "exported_at");
	emit_text(&w, p->exported_at);
	emit_key(&w, "relations");
	sequence_start(&w, false);
	for (int i = 0; i < p->nrels; i++)
	{
		const StatsRelation *r = &p->rels[i];

		mapping_start(&w);
		for (int f = 0; f < STATS_REL_FIELDS; f++)
			emit_field(&w, stats_rel_fields[f], r->f[f], rel_field_kind[f]);
		emit_key(&w, "columns");
		sequence_start(&w, false);
		for (int c = 0; c < r->ncols; c++)
		{
			mapping_start(&w);
			for (int f = 0; f < STATS_COL_FIELDS; f++)
				emit_field(&w, stats_col_fields[f], r->cols[c].f[f], col_field_kind[f]);
			mapping_end(&w);
		}
		sequence_end(&w);
		mapping_end(&w);
	}
	sequence_end(&w);
	document_end(&w);
}

void
stats_free(StatsProfile *p)
{
	for (int i = 0; p->rels != NULL && i < p->nrels; i++)
	{
		StatsRelation *r = &p->rels[i];

		for (int f = 0; f < STATS_REL_FIELDS; f++)
			free(r->f[f]);
		for (int c = 0; r->cols != NULL && c < r->ncols; c++)
			for (int f = 0; f < STATS_COL_FIELDS; f++)
				free(r->cols[c].f[f]);
		free(r->cols);
	}
	free(p->rels);
	free(p->source);
	free(p->server_version);
	free(p->exported_at);
	memset(p, 0, sizeof(*p));
}

/* one field's value, checked for its kind */
static char *
read_field(Reader *r, yaml_node_t *map, const char *key, int kind, bool required)
{
	yaml_node_t *v = lookup(r, map, key);
	yaml_node_t *node;
	char	   *s;
	char	   *end;

	if (v == NULL)
	{
		if (required)
			fail_at(r, map, "missing key \"%s\"", key);
		return NULL;
	}
	node = node_at(r, (int) (v - r->doc.nodes.start) + 1, map);
	/* a histogram of a wide column at statistics target 10 000 is large */
	s = get_string(r, node, key, !required,
				   kind == F_TEXT ? MAX_STATS_TEXT_BYTES : kind == F_NAME ? MAX_NAME_BYTES : 64);
	if (s == NULL)
		return NULL;
	held.pending = s;
	if (kind == F_REAL)
	{
		double		d;

		/* decimal only: not inf, nan or 0x1p20, which strtod would take */
		errno = 0;
		d = strtod(s, &end);
		if (end == s || *end != '\0' || errno != 0 || d != d ||
			strspn(s, "0123456789+-.eE") != strlen(s))
			fail_at(r, node, "%s must be a number", key);
	}
	else if (kind == F_INT)
	{
		long long	l;

		errno = 0;
		l = strtoll(s, &end, 10);
		if (end == s || *end != '\0' || errno != 0 || l < 0 || l > INT32_MAX * 2LL)
			fail_at(r, node, "%s must be a whole number from 0 to 4294967294", key);
	}
	else if (kind == F_WORD && strcmp(key, "inherited") == 0)
	{
		if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
			fail_at(r, node, "%s must be true or false", key);
	}
	else if (kind == F_WORD)
	{
		if (strlen(s) != 1 || strchr("rmpiItf", s[0]) == NULL)
			fail_at(r, node, "%s must be one of r, m, p, i, I, t, f (pg_class.relkind)", key);
	}
	else if (kind == F_NAME && s[0] == '\0')
		fail_at(r, node, "%s must not be empty", key);
	else if (kind == F_NAME && strcmp(key, "type") != 0 && strlen(s) > 63)
		fail_at(r, node, "%s is longer than a PostgreSQL name (63 bytes)", key);
	held.pending = NULL;
	return s;
}

static int
cmp_rel_ptr(const void *x, const void *y)
{
	const StatsRelation *a = *(const StatsRelation *const *) x;
	const StatsRelation *b = *(const StatsRelation *const *) y;
	int			c = strcmp(a->f[0], b->f[0]);

	return c != 0 ? c : strcmp(a->f[1], b->f[1]);
}

/*
 * yaml_read_stats: the guard-stats file at path, checked; exits with
 * status 2 and a message naming the line and column of the first problem.
 */
void
yaml_read_stats(const char *path, StatsProfile *p)
{
	static const char *const top_allowed[] = {"format", "version", "source", "server_version",
	"exported_at", "relations", NULL};
	static const char *const top_required[] = {"format", "version", "relations", NULL};
	static const char *rel_allowed[STATS_REL_FIELDS + 2];
	static const char *col_allowed[STATS_COL_FIELDS + 1];
	static const char *const rel_required[] = {"schema", "name", "kind", "reltuples", "relpages", NULL};
	static const char *const col_required[] = {"name", "inherited", "type", NULL};
	Reader		r;
	yaml_node_t *root;
	yaml_node_t *v;
	yaml_node_t *rels;
	yaml_node_item_t *item;
	StatsRelation **order;
	int			i;

	for (i = 0; i < STATS_REL_FIELDS; i++)
		rel_allowed[i] = stats_rel_fields[i];
	rel_allowed[STATS_REL_FIELDS] = "columns";
	rel_allowed[STATS_REL_FIELDS + 1] = NULL;
	for (i = 0; i < STATS_COL_FIELDS; i++)
		col_allowed[i] = stats_col_fields[i];
	col_allowed[STATS_COL_FIELDS] = NULL;

	memset(&held, 0, sizeof(held));
	memset(p, 0, sizeof(*p));
	held.stats = p;
	root = load_document(&r, path, "a statistics profile");
	if (root->type != YAML_MAPPING_NODE)
		fail_at(&r, root, "%s", "a statistics profile is a mapping with format, version and relations");
	check_keys(&r, root, top_allowed, top_required, "the file");
	read_header(&r, root, STATS_FORMAT);
	p->source = read_field(&r, root, "source", F_TEXT, false);
	p->server_version = read_field(&r, root, "server_version", F_TEXT, false);
	p->exported_at = read_field(&r, root, "exported_at", F_TEXT, false);
	if (p->exported_at != NULL)
		check_time(&r, root, "exported_at", p->exported_at);

	v = lookup(&r, root, "relations");
	rels = node_at(&r, (int) (v - r.doc.nodes.start) + 1, root);
	if (is_null(rels))
	{
		p->rels = pg_malloc0_or_die(sizeof(StatsRelation));
		release_held(false);
		return;
	}
	if (rels->type != YAML_SEQUENCE_NODE)
		fail_at(&r, rels, "%s", "relations must be a list");
	if (rels->data.sequence.items.top - rels->data.sequence.items.start > MAX_RELATIONS)
		fail_at(&r, rels, "%s", "too many relations");
	p->rels = pg_malloc0_or_die(sizeof(StatsRelation) *
								(rels->data.sequence.items.top - rels->data.sequence.items.start + 1));
	for (item = rels->data.sequence.items.start; item < rels->data.sequence.items.top; item++)
	{
		yaml_node_t *rn = node_at(&r, *item, rels);
		StatsRelation *rel = &p->rels[p->nrels++];
		yaml_node_t *cv;
		yaml_node_t *cols;
		yaml_node_item_t *citem;

		rel->line = (int) rn->start_mark.line + 1;
		rel->column = (int) rn->start_mark.column + 1;
		if (rn->type != YAML_MAPPING_NODE)
			fail_at(&r, rn, "%s", "a relation must be a mapping");
		check_keys(&r, rn, rel_allowed, rel_required, "a relation");
		for (i = 0; i < STATS_REL_FIELDS; i++)
			rel->f[i] = read_field(&r, rn, stats_rel_fields[i], rel_field_kind[i],
								   i < 5);
		cv = lookup(&r, rn, "columns");
		if (cv == NULL)
			continue;
		cols = node_at(&r, (int) (cv - r.doc.nodes.start) + 1, rn);
		if (is_null(cols))
			continue;
		if (cols->type != YAML_SEQUENCE_NODE)
			fail_at(&r, cols, "%s", "columns must be a list");
		if (cols->data.sequence.items.top - cols->data.sequence.items.start > 2 * MAX_COLUMNS)
			fail_at(&r, cols, "%s", "too many columns");
		rel->cols = pg_malloc0_or_die(sizeof(StatsColumn) *
									  (cols->data.sequence.items.top - cols->data.sequence.items.start + 1));
		for (citem = cols->data.sequence.items.start; citem < cols->data.sequence.items.top; citem++)
		{
			yaml_node_t *cn = node_at(&r, *citem, cols);
			StatsColumn *col = &rel->cols[rel->ncols++];

			col->line = (int) cn->start_mark.line + 1;
			col->column = (int) cn->start_mark.column + 1;
			if (cn->type != YAML_MAPPING_NODE)
				fail_at(&r, cn, "%s", "a column must be a mapping");
			check_keys(&r, cn, col_allowed, col_required, "a column");
			for (i = 0; i < STATS_COL_FIELDS; i++)
				col->f[i] = read_field(&r, cn, stats_col_fields[i], col_field_kind[i], i < 3);
			for (int c = 0; c < rel->ncols - 1; c++)
				if (strcmp(rel->cols[c].f[0], col->f[0]) == 0 &&
					strcmp(rel->cols[c].f[1], col->f[1]) == 0)
				{
					char		msg[160];

					snprintf(msg, sizeof(msg),
							 "duplicate column: the same name and inherited as the column at line %d",
							 rel->cols[c].line);
					fail_input(path, col->line - 1, col->column - 1, msg, NULL);
				}
		}
	}

	/* one entry per relation */
	order = pg_malloc0_or_die(sizeof(StatsRelation *) * (p->nrels > 0 ? p->nrels : 1));
	held.order = (BaselineEntry **) order;
	for (i = 0; i < p->nrels; i++)
		order[i] = &p->rels[i];
	qsort(order, p->nrels, sizeof(StatsRelation *), cmp_rel_ptr);
	for (i = 1; i < p->nrels; i++)
		if (cmp_rel_ptr(&order[i], &order[i - 1]) == 0)
		{
			const StatsRelation *a = order[i]->line > order[i - 1]->line ? order[i] : order[i - 1];
			const StatsRelation *b = a == order[i] ? order[i - 1] : order[i];
			char		msg[160];

			snprintf(msg, sizeof(msg),
					 "duplicate relation: the same schema and name as the relation at line %d",
					 b->line);
			fail_input(path, a->line - 1, a->column - 1, msg, NULL);
		}
	release_held(false);
}
