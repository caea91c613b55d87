/*-------------------------------------------------------------------------
 *
 * normalize.c
 *		Statement texts as guard stores them: constants replaced by $n, and
 *		the statement itself, not the EXPLAIN or PREPARE command around it.
 *
 * The jumble (fingerprint.c) records where each constant of the statement
 * was written; this file finds how long each constant's token is with the
 * core lexer and replaces it by $n, numbering after the highest $n the
 * statement already uses.  This is the normalization pg_stat_statements
 * applies, so the two show the same text for the same statement.  A
 * negative number ("-5") is one constant.  Runs only when a plan is seen
 * for the first time, never per execution.
 *
 * The grammar's token numbers (parser/gram.h, parser/gramparse.h) are not
 * installed since PostgreSQL 16, so the scanner is given a keyword token
 * table of guard's own (as PL/pgSQL gives it its own): keyword number k
 * lexes as GUARD_KW_TOKEN + k, above every token the grammar defines, and
 * the few keywords looked for are compared by number.  A parameter ($n) is
 * recognized by its text: no other token starts with '$' and a digit.
 *
 * IDENTIFICATION
 *		src/normalize.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/keywords.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "parser/scansup.h"
#include "parser/scanner.h"
#include "utils/memutils.h"

#include "guard.h"
#include "fingerprint.h"
#include "textparams.h"

/* Texts longer than this are cut (on a character boundary) when stored. */
#define GUARD_MAX_TEXT	65536

/*
 * Keyword k lexes as GUARD_KW_TOKEN + k: above the grammar's own tokens
 * (a few hundred), and within uint16 for every keyword list to come.
 */
#define GUARD_KW_TOKEN	4096

/* The keywords command_prefix looks for, as tokens (set with kw_tokens). */
static int	kw_analyse,
			kw_analyze,
			kw_as,
			kw_explain,
			kw_prepare,
			kw_select,
			kw_table,
			kw_values,
			kw_verbose,
			kw_with;
static uint16 *kw_tokens = NULL;

static int
keyword_token(const char *kw)
{
	int			kwnum = ScanKeywordLookup(kw, &ScanKeywords);

	/* every keyword looked for is a core keyword in every version */
	if (kwnum < 0)
		elog(ERROR, "\"%s\" is not a keyword", kw);
	return GUARD_KW_TOKEN + kwnum;
}

/*
 * guard_scanner_init: scanner_init with guard's keyword token table, built
 * on first use (in TopMemoryContext: it lives as long as the backend).
 */
static core_yyscan_t
guard_scanner_init(const char *text, core_yy_extra_type *yyextra)
{
	if (kw_tokens == NULL)
	{
		uint16	   *tokens;
		int			i;

		tokens = MemoryContextAlloc(TopMemoryContext,
									Max(ScanKeywords.num_keywords, 1) * sizeof(uint16));
		for (i = 0; i < ScanKeywords.num_keywords; i++)
			tokens[i] = (uint16) (GUARD_KW_TOKEN + i);
		kw_analyse = keyword_token("analyse");
		kw_analyze = keyword_token("analyze");
		kw_as = keyword_token("as");
		kw_explain = keyword_token("explain");
		kw_prepare = keyword_token("prepare");
		kw_select = keyword_token("select");
		kw_table = keyword_token("table");
		kw_values = keyword_token("values");
		kw_verbose = keyword_token("verbose");
		kw_with = keyword_token("with");
		kw_tokens = tokens;
	}
	return scanner_init(text, yyextra, &ScanKeywords, kw_tokens);
}

/* Is the token at loc a parameter ($n)?  Nothing else starts "$digit". */
static inline bool
is_param(const core_yy_extra_type *yyextra, YYLTYPE loc)
{
	return yyextra->scanbuf[loc] == '$' &&
		yyextra->scanbuf[loc + 1] >= '0' && yyextra->scanbuf[loc + 1] <= '9';
}

static int
cmp_int(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* Skip a parenthesized list whose '(' was just read; false at the end. */
static bool
skip_parens(core_yyscan_t yyscanner, core_YYSTYPE *yylval, YYLTYPE *yylloc)
{
	int			depth = 1;

	while (depth > 0)
	{
		int			tok = core_yylex(yylval, yylloc, yyscanner);

		if (tok == 0)
			return false;
		if (tok == '(')
			depth++;
		else if (tok == ')')
			depth--;
	}
	return true;
}

/*
 * command_prefix: in PostgreSQL 15 the query inside EXPLAIN and PREPARE
 * carries the location and length of the whole command (or none: the rest
 * of the source string).  If stmt (len bytes) starts with
 * EXPLAIN [ANALYZE|ANALYSE] [VERBOSE] | EXPLAIN (options) |
 * PREPARE name [(types)] AS, set *skip to where the statement itself
 * starts and *stmt_len to its length (up to the first ';' outside
 * parentheses) and return true.  Lexed with the core scanner, so comments,
 * quoted identifiers and strings are what the parser sees.
 */
static bool
command_prefix_lex(const char *stmt, int len, int *skip, int *stmt_len)
{
	core_yyscan_t yyscanner;
	core_yy_extra_type yyextra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	char	   *text;
	int			tok;
	int			start;
	int			end = len;
	int			depth = 0;
	bool		found = false;

	/* cheap test first: only a keyword or a comment can start a prefix */
	if (len <= 0 || strchr("eEpP-/", stmt[0]) == NULL)
		return false;
	text = pnstrdup(stmt, len);
	yyscanner = guard_scanner_init(text, &yyextra);
	yyextra.escape_string_warning = false;
	tok = core_yylex(&yylval, &yylloc, yyscanner);
	if (tok == kw_explain)
	{
		tok = core_yylex(&yylval, &yylloc, yyscanner);
		if (tok == '(')
		{
			int			paren = yylloc;

			tok = core_yylex(&yylval, &yylloc, yyscanner);
			/* "EXPLAIN (SELECT ...)": the parenthesis is the statement's */
			if (tok == kw_select || tok == kw_values || tok == kw_with || tok == kw_table ||
				tok == '(')
			{
				yylloc = paren;
				found = true;
			}
			else if (tok != ')' && skip_parens(yyscanner, &yylval, &yylloc))
			{
				tok = core_yylex(&yylval, &yylloc, yyscanner);
				found = (tok != 0);
			}
		}
		else
		{
			while (tok == kw_analyze || tok == kw_analyse || tok == kw_verbose)
				tok = core_yylex(&yylval, &yylloc, yyscanner);
			found = (tok != 0);
		}
	}
	else if (tok == kw_prepare)
	{
		tok = core_yylex(&yylval, &yylloc, yyscanner);	/* the name */
		if (tok != 0)
			tok = core_yylex(&yylval, &yylloc, yyscanner);
		if (tok == '(' && skip_parens(yyscanner, &yylval, &yylloc))
			tok = core_yylex(&yylval, &yylloc, yyscanner);
		if (tok == kw_as)
		{
			tok = core_yylex(&yylval, &yylloc, yyscanner);
			found = (tok != 0);
		}
	}
	if (found)
	{
		start = yylloc;
		/* the statement ends at the first ';' outside parentheses */
		for (;;)
		{
			if (tok == '(')
				depth++;
			else if (tok == ')')
				depth--;
			else if (tok == ';' && depth <= 0)
			{
				end = yylloc;
				break;
			}
			tok = core_yylex(&yylval, &yylloc, yyscanner);
			if (tok == 0)
				break;
		}
		while (end > start && scanner_isspace(stmt[end - 1]))
			end--;
		*skip = start;
		*stmt_len = end - start;
	}
	scanner_finish(yyscanner);
	pfree(text);
	return found && *stmt_len > 0;
}

/*
 * The core scanner reads strings by this session's standard_conforming_strings
 * and backslash_quote, which any role may change between the PREPARE of a
 * statement and its planning: the same text can then fail to lex ("unterminated
 * quoted string").  guard's text work must never fail a statement, nor turn a
 * verdict off: a lexing error is caught here (the scanner holds nothing but
 * memory) and the caller falls back to the text as written.  Cancels and
 * worse are re-thrown.
 */
static void
lexing_failed(MemoryContext cxt)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	if (edata->elevel > ERROR || edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
		edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
	{
		FreeErrorData(edata);
		PG_RE_THROW();
	}
	FlushErrorState();
	FreeErrorData(edata);
}

/* command_prefix_lex, with a lexing failure meaning "no prefix" */
static bool
command_prefix(const char *stmt, int len, int *skip, int *stmt_len)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool found = false;

	PG_TRY();
	{
		found = command_prefix_lex(stmt, len, skip, stmt_len);
	}
	PG_CATCH();
	{
		lexing_failed(cxt);
		found = false;
	}
	PG_END_TRY();
	return found;
}

/*
 * Trim the statement out of a multi-statement string, as core's
 * CleanQuerytext does: skip leading and trailing white space; then skip
 * the EXPLAIN or PREPARE command around it (command_prefix).
 */
static const char *
statement_bounds(const char *query, int *loc, int *len)
{
	int			query_loc = *loc;
	int			query_len = *len;

	if (query_loc >= 0)
	{
		Assert(query_loc <= strlen(query));
		query += query_loc;
		if (query_len <= 0)
			query_len = strlen(query);
		else
			Assert(query_len <= strlen(query));
	}
	else
	{
		query_loc = 0;
		query_len = strlen(query);
	}
	while (query_len > 0 && scanner_isspace(query[0]))
		query++, query_loc++, query_len--;
	while (query_len > 0 && scanner_isspace(query[query_len - 1]))
		query_len--;
	{
		int			skip;
		int			stmt_len;

		if (command_prefix(query, query_len, &skip, &stmt_len))
		{
			query += skip;
			query_loc += skip;
			query_len = stmt_len;
		}
	}
	*loc = query_loc;
	*len = query_len;
	return query;
}

char *
guard_clip_text(char *s, int len)
{
	if (len > GUARD_MAX_TEXT)
	{
		len = pg_mbcliplen(s, len, GUARD_MAX_TEXT);
		s[len] = '\0';
	}
	return s;
}

static void
put_stringinfo(void *ctx, const char *s, size_t n)
{
	appendBinaryStringInfo((StringInfo) ctx, s, (int) n);
}

/*
 * guard_text_params_unnumbered: text with the number of each $n parameter
 * token dropped ("$1" -> "$"), for comparing a statement sent with literal
 * values to the same statement prepared: they normalize alike but for how
 * their $n are numbered.  Only parameter tokens: not a "$1" inside a quoted
 * identifier, a string, a comment or a name (c$1), which would make
 * different statements equal.
 */
void
guard_text_params_unnumbered(const char *text, StringInfo out)
{
	guard_params_unnumbered(text, put_stringinfo, out);
}

/*
 * guard_same_but_params: are a and b equal but for the numbers of their
 * $n parameters (guard_text_params_unnumbered)?
 */
bool
guard_same_but_params(const char *a, const char *b)
{
	StringInfoData x;
	StringInfoData y;
	bool		same;

	initStringInfo(&x);
	initStringInfo(&y);
	guard_text_params_unnumbered(a, &x);
	guard_text_params_unnumbered(b, &y);
	same = x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
	pfree(x.data);
	pfree(y.data);
	return same;
}

/*
 * guard_text_maybe_clipped: may s be a text cut by guard_clip_text?  (A
 * multibyte character is never split, so a cut text may end up to 3 bytes
 * short of the limit.)  Only the store's limit: a statement of exactly an
 * incident's 2 kB is an ordinary statement, and an application could write
 * one on purpose; a decision whose text an incident clipped matches nothing.
 */
bool
guard_text_maybe_clipped(const char *s)
{
	return strlen(s) >= GUARD_MAX_TEXT - 3;
}

/*
 * The text guard stores for a statement that has none: the body of a
 * SQL-standard function (BEGIN ATOMIC), which is kept as a parse tree.
 */

/* guard_statement_text: the statement's own text, unnormalized. */
char *
guard_statement_text(const char *query, int query_loc, int query_len)
{
	const char *start;

	if (query == NULL)
		return pstrdup(GUARD_NO_SOURCE_TEXT);
	start = statement_bounds(query, &query_loc, &query_len);
	if (query_len <= 0)
		return pstrdup(GUARD_NO_SOURCE_TEXT);
	return guard_clip_text(pnstrdup(start, query_len), query_len);
}

/*
 * lex_constants: lex text, setting lens[i] to the length of the constant
 * token at locs[i] (0 if none starts there) and *max_param to the highest
 * $n it contains.  May ERROR (see lexing_failed).
 */
static void
lex_constants(char *text, const int *locs, int n, int *lens, int *max_param)
{
	core_yyscan_t yyscanner;
	core_yy_extra_type yyextra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			next = 0;

	yyscanner = guard_scanner_init(text, &yyextra);
	yyextra.escape_string_warning = false;
	for (;;)
	{
		int			tok = core_yylex(&yylval, &yylloc, yyscanner);

		if (tok == 0)
			break;
		if (is_param(&yyextra, yylloc) && yylval.ival > *max_param)
			*max_param = yylval.ival;
		while (next < n && locs[next] < yylloc)
			next++;				/* a location we cannot match: keep text */
		if (next < n && locs[next] == yylloc)
		{
			/* flex leaves a NUL after the current token's text */
			int			len = strlen(yyextra.scanbuf + yylloc);

			if (tok == '-')
			{
				/* "-5": the minus belongs to the constant */
				tok = core_yylex(&yylval, &yylloc, yyscanner);
				if (tok == 0)
				{
					lens[next] = len;
					break;
				}
				len = yylloc + strlen(yyextra.scanbuf + yylloc) - locs[next];
			}
			lens[next] = len;
			next++;
		}
	}
	scanner_finish(yyscanner);
}

/*
 * guard_normalize_query: the statement with its constants replaced by $n.
 * locations are byte offsets into query (the whole source string).
 */
char *
guard_normalize_query(const char *query, int query_loc, int query_len,
					  const int *locations, int nlocations)
{
	return guard_normalize_query_checked(query, query_loc, query_len,
										 locations, nlocations, NULL);
}

/*
 * guard_normalize_query_checked: the same, and *consistent (if not NULL)
 * says whether the text lexes now as the parser read it: every constant
 * location inside the statement's text and at the start of a token.  It
 * may not when the statement was parsed under other settings than those in
 * force (a statement prepared under standard_conforming_strings = on,
 * planned under off): then the text guard derives is not the statement's,
 * and nothing may be matched by it.
 */
char *
guard_normalize_query_checked(const char *query, int query_loc, int query_len,
							  const int *locations, int nlocations,
							  bool *consistent)
{
	MemoryContext cxt = CurrentMemoryContext;
	int		   *volatile locs;
	int		   *volatile lens;
	int			n = 0;
	int			i;
	int			max_param = 0;
	int			copied = 0;
	const char *stmt;
	char	   *text;
	StringInfoData buf;
	bool		outside = false;

	if (consistent)
		*consistent = false;
	if (query == NULL)
		return pstrdup(GUARD_NO_SOURCE_TEXT);
	stmt = statement_bounds(query, &query_loc, &query_len);
	if (query_len <= 0)
		return pstrdup(GUARD_NO_SOURCE_TEXT);
	if (nlocations == 0)
	{
		if (consistent)
			*consistent = true;
		return guard_clip_text(pnstrdup(stmt, query_len), query_len);
	}

	/* constants of this statement, as offsets into its text, sorted, unique */
	locs = palloc(nlocations * sizeof(int));
	for (i = 0; i < nlocations; i++)
	{
		int			l = locations[i] - query_loc;

		if (l >= 0 && l < query_len)
			locs[n++] = l;
		else
			outside = true;		/* the text ends before it, as lexed now */
	}
	qsort(locs, n, sizeof(int), cmp_int);
	for (i = 1, nlocations = n, n = n > 0 ? 1 : 0; i < nlocations; i++)
		if (locs[i] != locs[n - 1])
			locs[n++] = locs[i];
	lens = palloc0(Max(n, 1) * sizeof(int));

	/* lex the statement: token lengths at the constants, highest $n */
	text = pnstrdup(stmt, query_len);
	PG_TRY();
	{
		lex_constants(text, locs, n, lens, &max_param);
	}
	PG_CATCH();
	{
		/* see lexing_failed: keep the text as written */
		lexing_failed(cxt);
		pfree(locs);
		pfree(lens);
		return guard_clip_text(pnstrdup(stmt, query_len), query_len);
	}
	PG_END_TRY();

	if (consistent)
	{
		*consistent = !outside;
		for (i = 0; i < n; i++)
			if (lens[i] <= 0)
				*consistent = false;
	}

	initStringInfo(&buf);
	for (i = 0; i < n; i++)
	{
		if (lens[i] <= 0 || locs[i] < copied)
			continue;
		appendBinaryStringInfo(&buf, stmt + copied, locs[i] - copied);
		appendStringInfo(&buf, "$%d", ++max_param);
		copied = locs[i] + lens[i];
	}
	appendBinaryStringInfo(&buf, stmt + copied, query_len - copied);
	pfree(text);
	pfree(locs);
	pfree(lens);
	return guard_clip_text(buf.data, buf.len);
}
