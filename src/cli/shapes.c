/*-------------------------------------------------------------------------
 *
 * shapes.c
 *		pg_guard: what a plan shape (guard's text of a plan, one node per
 *		line) tells: the relations it reads by Seq Scan.
 *
 * IDENTIFICATION
 *		src/cli/shapes.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "pg_guard.h"

/*
 * plan_seqscans: the relations a plan shape reads by Seq Scan ("Seq Scan on
 * R", "Parallel Seq Scan on R"), in order, each once; *names malloc'd.
 */
int
plan_seqscans(const char *plan, char ***names)
{
	const char *p = plan;
	int			n = 0;

	*names = NULL;
	while (p != NULL && *p)
	{
		const char *eol = strchr(p, '\n');
		size_t		len = eol ? (size_t) (eol - p) : strlen(p);
		const char *q;

		for (q = p; q + 12 <= p + len; q++)
			if (strncmp(q, "Seq Scan on ", 12) == 0)
			{
				size_t		m = (p + len) - (q + 12);
				char	   *rel = pg_malloc0_or_die(m + 1);
				bool		dup = false;
				int			i;

				memcpy(rel, q + 12, m);
				for (i = 0; i < n; i++)
					if (strcmp((*names)[i], rel) == 0)
						dup = true;
				if (dup)
					free(rel);
				else
				{
					*names = realloc(*names, sizeof(char *) * (n + 1));
					if (*names == NULL)
						pg_fatal_input("out of memory");
					(*names)[n++] = rel;
				}
				break;
			}
		p = eol ? eol + 1 : NULL;
	}
	return n;
}

void
free_names(char **names, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
