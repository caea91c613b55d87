/*-------------------------------------------------------------------------
 *
 * lint.c
 *		The lost-parentheses lint (reason andor_precedence).
 *
 * "a AND b OR c" means "(a AND b) OR c": AND binds tighter.  Written on
 * purpose that is rare; written by losing the parentheses of
 * "a AND (b OR c)" it is the regression guard exists for.  The lint finds,
 * in WHERE, JOIN ... ON and HAVING clauses (and those of subqueries), an
 * OR whose operand is an AND group that the source text does not wrap in
 * parentheses of its own.
 *
 * The parse tree says how PostgreSQL grouped the clause; the source text
 * says how it was written.  Nodes carry the location of their keyword: the
 * AND group was parenthesized exactly when its AND keyword sits deeper in
 * parentheses than the OR keyword of the OR it belongs to.  Nodes without
 * a location (view definitions, rules: stored trees lose them) and nodes
 * whose location does not hold the keyword (BETWEEN ... AND, row
 * comparisons and IN lists build AND/OR nodes too) are not judged.
 *
 * It runs at plan time (judge.c), and only when the query hash saw an OR
 * with an AND operand (fingerprint.c): statements without one pay nothing.
 * The finding, the clause as PostgreSQL grouped it rendered from the
 * source text, becomes part of the plan's judgment.
 *
 * The statement's text is the client's to choose, so the work is bounded:
 * a statement longer than GUARD_LINT_MAX_TEXT is not linted at all (the
 * other rules still judge its plan), and the clause is cut at
 * GUARD_CLAUSE_MAX bytes.  Comments inside the clause are rendered as a
 * space: folded onto one line, a "--" comment would swallow the rest.
 *
 * IDENTIFICATION
 *		src/lint.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/memutils.h"

#include "guard.h"
#include "lint.h"

typedef struct LintState
{
	const char *src;			/* whole query string */
	int			start;			/* the statement's first byte */
	int			end;			/* one past its last byte */
	int		   *depths;			/* parenthesis depth by offset, built once */
	char	   *finding;		/* first finding, palloc'd */
} LintState;

/* Is there a comment at s[pos]? */
static inline bool
comment_at(const char *s, int pos, int end)
{
	return pos + 1 < end &&
		((s[pos] == '-' && s[pos + 1] == '-') || (s[pos] == '/' && s[pos + 1] == '*'));
}

/* Is c part of an identifier or keyword? */
static inline bool
ident_char(char c)
{
	return isalnum((unsigned char) c) || c == '_' || c == '$' || (c & 0x80);
}

/*
 * skip_token: from a position that starts a string, quoted identifier,
 * comment or dollar-quoted string, return the position just past it;
 * otherwise return pos + 1.  Bounded by end.
 */
static int
skip_token(const char *s, int pos, int end)
{
	char		c = s[pos];

	if (c == '\'' || c == '"')
	{
		bool		backslash = (c == '\'' && pos > 0 &&
								 (s[pos - 1] == 'E' || s[pos - 1] == 'e') &&
								 (pos < 2 || !ident_char(s[pos - 2])));

		for (pos++; pos < end; pos++)
		{
			if (backslash && s[pos] == '\\' && pos + 1 < end)
				pos++;
			else if (s[pos] == c)
			{
				if (pos + 1 < end && s[pos + 1] == c)
					pos++;		/* doubled quote */
				else
					return pos + 1;
			}
		}
		return end;
	}
	if (c == '-' && pos + 1 < end && s[pos + 1] == '-')
	{
		while (pos < end && s[pos] != '\n')
			pos++;
		return pos;
	}
	if (c == '/' && pos + 1 < end && s[pos + 1] == '*')
	{
		int			depth = 1;

		for (pos += 2; pos < end && depth > 0; pos++)
		{
			if (s[pos] == '/' && pos + 1 < end && s[pos + 1] == '*')
				depth++, pos++;
			else if (s[pos] == '*' && pos + 1 < end && s[pos + 1] == '/')
				depth--, pos++;
		}
		return pos;
	}
	if (c == '$' && (pos == 0 || !ident_char(s[pos - 1])))
	{
		/* $tag$ ... $tag$ ($1 is a parameter, not a quote) */
		int			t = pos + 1;

		while (t < end && (isalpha((unsigned char) s[t]) || s[t] == '_' ||
						   (t > pos + 1 && isdigit((unsigned char) s[t]))))
			t++;
		if (t < end && s[t] == '$')
		{
			int			taglen = t - pos + 1;

			for (t++; t + taglen <= end; t++)
				if (s[t] == '$' && strncmp(s + t, s + pos, taglen) == 0)
					return t + taglen;
			return end;
		}
	}
	if (ident_char(c))
	{
		while (pos < end && ident_char(s[pos]))
			pos++;
		return pos;
	}
	return pos + 1;
}

/*
 * Parenthesis depth at loc, counted from the statement's start.  The depths
 * of the whole statement are computed in one pass the first time: a
 * generated clause with thousands of OR operands asks thousands of times.
 */
static int
depth_at(LintState *ls, int loc)
{
	if (loc < ls->start || loc >= ls->end)
		return -1;
	if (ls->depths == NULL)
	{
		int			depth = 0;
		int			pos = ls->start;

		ls->depths = palloc((ls->end - ls->start) * sizeof(int));
		while (pos < ls->end)
		{
			int			next = skip_token(ls->src, pos, ls->end);
			int			i;

			for (i = pos; i < next; i++)
				ls->depths[i - ls->start] = depth;
			if (ls->src[pos] == '(')
				depth++;
			else if (ls->src[pos] == ')')
				depth--;
			pos = next;
		}
	}
	return ls->depths[loc - ls->start];
}

/* Does the keyword kw (upper case) start at loc? */
static bool
keyword_at(LintState *ls, int loc, const char *kw)
{
	int			len = strlen(kw);

	if (loc < ls->start || loc + len > ls->end)
		return false;
	if (pg_strncasecmp(ls->src + loc, kw, len) != 0)
		return false;
	if (loc + len < ls->end && ident_char(ls->src[loc + len]))
		return false;
	return loc == 0 || !ident_char(ls->src[loc - 1]);
}

/* Keywords that end an expression at its own parenthesis level */
static const char *const end_keywords[] = {
	"ORDER", "GROUP", "HAVING", "LIMIT", "OFFSET", "FETCH", "FOR", "WINDOW",
	"UNION", "INTERSECT", "EXCEPT", "RETURNING", "THEN", "ELSE", "END", "WHEN",
	"JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL", "WHERE",
	"ON", "USING", "DO", NULL
};

static bool
ends_expression(LintState *ls, int pos)
{
	int			i;

	for (i = 0; end_keywords[i]; i++)
		if (keyword_at(ls, pos, end_keywords[i]))
			return true;
	return false;
}

/*
 * Append s[from, to) with runs of white space and comments folded to one
 * space, stopping once buf holds GUARD_CLAUSE_MAX bytes.
 */
static void
append_folded(StringInfo buf, const char *s, int from, int to)
{
	bool		space = false;
	bool		any = false;

	while (from < to && buf->len < GUARD_CLAUSE_MAX)
	{
		if (isspace((unsigned char) s[from]) || comment_at(s, from, to))
		{
			space = any;
			from = isspace((unsigned char) s[from]) ? from + 1 : skip_token(s, from, to);
			continue;
		}
		if (space)
			appendStringInfoChar(buf, ' ');
		space = false;
		any = true;
		appendStringInfoChar(buf, s[from]);
		from++;
	}
}

/*
 * render: the OR expression starting at from, with each operand that
 * contains one of the unparenthesized AND keywords in and_locs wrapped in
 * parentheses: the clause as PostgreSQL grouped it.
 */
static char *
render(LintState *ls, int from, const int *and_locs, int nand)
{
	StringInfoData buf;
	int			pos = from;
	int			seg = from;
	int			depth = 0;
	bool		wrap = false;

	initStringInfo(&buf);
	for (;;)
	{
		bool		at_end = pos >= ls->end || ls->src[pos] == ';' ||
			(depth == 0 && (ls->src[pos] == ',' || ls->src[pos] == ')' ||
							ends_expression(ls, pos)));
		bool		at_or = !at_end && depth == 0 && keyword_at(ls, pos, "OR");
		int			i;

		if (buf.len >= GUARD_CLAUSE_MAX)
		{
			/* cut, on a character boundary */
			buf.len = pg_mbcliplen(buf.data, buf.len, GUARD_CLAUSE_MAX - 4);
			buf.data[buf.len] = '\0';
			appendStringInfoString(&buf, " ...");
			break;
		}
		if (at_end || at_or)
		{
			if (buf.len > 0)
				appendStringInfoString(&buf, " OR ");
			if (wrap)
				appendStringInfoChar(&buf, '(');
			append_folded(&buf, ls->src, seg, pos);
			if (wrap)
				appendStringInfoChar(&buf, ')');
			if (at_end)
				break;
			pos += 2;
			seg = pos;
			wrap = false;
			continue;
		}
		for (i = 0; i < nand; i++)
			if (and_locs[i] == pos && depth == 0)
				wrap = true;
		if (ls->src[pos] == '(' || keyword_at(ls, pos, "CASE"))
			depth++;
		else if (ls->src[pos] == ')' || (depth > 0 && keyword_at(ls, pos, "END")))
			depth--;
		pos = skip_token(ls->src, pos, ls->end);
	}
	return buf.data;
}

/* Judge one OR node; record the first finding. */
static void
lint_or(LintState *ls, BoolExpr *or)
{
	int			or_depth;
	int		   *and_locs;
	int			nand = 0;
	ListCell   *lc;

	if (or->location < 0 || !keyword_at(ls, or->location, "OR"))
		return;
	or_depth = depth_at(ls, or->location);
	and_locs = palloc(list_length(or->args) * sizeof(int));
	foreach(lc, or->args)
	{
		BoolExpr   *arg = (BoolExpr *) lfirst(lc);

		if (!IsA(arg, BoolExpr) || arg->boolop != AND_EXPR ||
			arg->location < 0 || !keyword_at(ls, arg->location, "AND"))
			continue;
		if (depth_at(ls, arg->location) == or_depth)
			and_locs[nand++] = arg->location;
	}
	if (nand > 0)
	{
		int			from = exprLocation((Node *) or);
		int			d;

		if (from < ls->start || from >= ls->end)
			return;

		/*
		 * The leftmost node may sit inside parentheses of its own, as in
		 * "(a) AND b OR c": step back over them to the OR's level.
		 */
		for (d = depth_at(ls, from); d > or_depth; d--)
		{
			int			p = from - 1;

			while (p > ls->start && isspace((unsigned char) ls->src[p]))
				p--;
			if (p < ls->start || ls->src[p] != '(')
				break;
			from = p;
		}
		ls->finding = render(ls, from, and_locs, nand);
	}
}

static bool lint_walker(Node *node, LintState *ls);

/* The quals of a FROM tree: WHERE and JOIN ... ON */
static void
lint_jointree(Node *node, LintState *ls)
{
	ListCell   *lc;

	if (node == NULL || ls->finding)
		return;
	if (IsA(node, FromExpr))
	{
		FromExpr   *f = (FromExpr *) node;

		foreach(lc, f->fromlist)
			lint_jointree(lfirst(lc), ls);
		(void) lint_walker(f->quals, ls);
	}
	else if (IsA(node, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) node;

		lint_jointree(j->larg, ls);
		lint_jointree(j->rarg, ls);
		(void) lint_walker(j->quals, ls);
	}
}

static void
lint_query(Query *query, LintState *ls)
{
	ListCell   *lc;

	lint_jointree((Node *) query->jointree, ls);
	(void) lint_walker(query->havingQual, ls);
	/* subqueries in FROM and WITH have clauses of their own */
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind == RTE_SUBQUERY && rte->subquery && !ls->finding)
			lint_query(rte->subquery, ls);
	}
	foreach(lc, query->cteList)
	{
		CommonTableExpr *cte = (CommonTableExpr *) lfirst(lc);

		if (IsA(cte->ctequery, Query) && !ls->finding)
			lint_query((Query *) cte->ctequery, ls);
	}
	if (query->setOperations && !ls->finding)
		(void) lint_walker(query->setOperations, ls);
}

/* Expressions of a clause: ORs to judge, sublinks to enter. */
static bool
lint_walker(Node *node, LintState *ls)
{
	if (node == NULL || ls->finding)
		return false;
	check_stack_depth();
	if (IsA(node, BoolExpr) && ((BoolExpr *) node)->boolop == OR_EXPR)
	{
		lint_or(ls, (BoolExpr *) node);
		if (ls->finding)
			return true;
	}
	if (IsA(node, SubLink))
	{
		SubLink    *sl = (SubLink *) node;

		(void) lint_walker(sl->testexpr, ls);
		if (sl->subselect && IsA(sl->subselect, Query))
			lint_query((Query *) sl->subselect, ls);
		return ls->finding != NULL;
	}
	if (IsA(node, RangeTblRef))
		return false;
	return expression_tree_walker(node, lint_walker, (void *) ls);
}

/*
 * guard_lint_andor: the first AND/OR clause of query written without the
 * parentheses its grouping implies, rendered as PostgreSQL grouped it, or
 * NULL.  query_string is the source text the locations point into.
 */
char *
guard_lint_andor(Query *query, const char *query_string)
{
	LintState	ls;
	int			len;

	if (query_string == NULL)
		return NULL;
	if (guard_debug_fault == GUARD_FAULT_LINT)
		elog(ERROR, "injected fault in the AND/OR lint (guard.debug_fault)");
	len = strlen(query_string);
	ls.src = query_string;
	ls.start = Max(query->stmt_location, 0);
	ls.end = query->stmt_len > 0 ? Min(ls.start + query->stmt_len, len) : len;
	ls.finding = NULL;
	ls.depths = NULL;
	if (ls.start >= ls.end || ls.end - ls.start > GUARD_LINT_MAX_TEXT)
		return NULL;
	lint_query(query, &ls);
	if (ls.depths)
		pfree(ls.depths);
	return ls.finding;
}
