/*-------------------------------------------------------------------------
 *
 * textparams.h
 *		The statement text up to the numbering of its $n parameters, shared
 *		by the server (normalize.c) and pg_guard (src/cli): both compare a
 *		statement sent with literal values to the same statement prepared,
 *		which normalize alike but for how their $n are numbered.
 *
 * Header-only and free of server or frontend headers: the text is written
 * through a callback.  Only parameter tokens lose their number: a "$1"
 * inside a quoted identifier, a string, a dollar-quoted string, a comment
 * or a name (c$1) is text, or different statements would compare equal.
 *
 * IDENTIFICATION
 *		src/textparams.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_TEXTPARAMS_H
#define GUARD_TEXTPARAMS_H

#include <ctype.h>
#include <string.h>

typedef void (*GuardTextPut) (void *ctx, const char *s, size_t n);

#define GUARD_IDENT_CHAR(c) \
	(isalnum((unsigned char) (c)) || (c) == '_' || ((unsigned char) (c) & 0x80))

static inline void
guard_params_unnumbered(const char *text, GuardTextPut put, void *ctx)
{
	const char *p = text;

	while (*p)
	{
		const char *start = p;

		if (*p == '\'' || *p == '"')
		{
			/* a string or a quoted identifier, doubled quotes inside */
			char		q = *p++;

			while (*p && !(*p == q && p[1] != q))
				p += (*p == q) ? 2 : 1;
			if (*p)
				p++;
		}
		else if (p[0] == '-' && p[1] == '-')
		{
			while (*p && *p != '\n')
				p++;
		}
		else if (p[0] == '/' && p[1] == '*')
		{
			int			depth = 0;

			do
			{
				if (p[0] == '/' && p[1] == '*')
				{
					depth++;
					p += 2;
				}
				else if (p[0] == '*' && p[1] == '/')
				{
					depth--;
					p += 2;
				}
				else
					p++;
			} while (*p && depth > 0);
		}
		else if (*p == '$' && isdigit((unsigned char) p[1]) &&
				 (p == text || !(GUARD_IDENT_CHAR(p[-1]) || p[-1] == '$')))
		{
			/* a parameter: "$", its number dropped */
			put(ctx, "$", 1);
			p++;
			while (isdigit((unsigned char) *p))
				p++;
			continue;
		}
		else if (*p == '$' && !(p > text && GUARD_IDENT_CHAR(p[-1])))
		{
			/* perhaps a dollar-quoted string: $tag$ ... $tag$ */
			const char *tag_end = p + 1;

			while (GUARD_IDENT_CHAR(*tag_end))
				tag_end++;
			if (*tag_end == '$')
			{
				size_t		taglen = tag_end - p + 1;
				const char *q = tag_end + 1;

				while (*q && strncmp(q, p, taglen) != 0)
					q++;
				p = *q ? q + taglen : q;
			}
			else
				p++;
		}
		else
			p++;
		put(ctx, start, p - start);
	}
}

#endif							/* GUARD_TEXTPARAMS_H */
