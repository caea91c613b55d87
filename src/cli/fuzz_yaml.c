/*-------------------------------------------------------------------------
 *
 * fuzz_yaml.c
 *		libFuzzer target for pg_guard's YAML readers (yaml_read_baseline,
 *		yaml_read_check_config, yaml_read_stats).
 *
 * Built by `make fuzz` (clang, -fsanitize=fuzzer,address), never by the
 * normal build; run by test/fuzz/run.sh.  The reader reports bad input by
 * exiting: here exit() is renamed (-Dexit=fuzz_exit) to a longjmp back to
 * the target, so every input, good or bad, returns.  The reader may leak
 * on those paths (the program exits there): run with -detect_leaks=0.
 *
 * IDENTIFICATION
 *		src/cli/fuzz_yaml.c
 *
 *-------------------------------------------------------------------------
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_guard.h"

const char *progname = "pg_guard-fuzz";
static jmp_buf back;
static char path[64];
static int	devnull = -1;
static int	saved_stderr = -1;

void
fuzz_exit(int code)
{
	longjmp(back, 1);
}

void
pg_fatal_usage(const char *fmt,...)
{
	fuzz_exit(2);
}

void
pg_fatal_input(const char *fmt,...)
{
	fuzz_exit(2);
}

void *
pg_malloc0_or_die(size_t size)
{
	void	   *p = calloc(1, size ? size : 1);

	if (p == NULL)
		abort();
	return p;
}

char *
pg_strdup_or_die(const char *s)
{
	char	   *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	FILE	   *f;
	Baseline	b;

	if (path[0] == '\0')
	{
		snprintf(path, sizeof(path), "/dev/shm/pg_guard-fuzz.%d", (int) getpid());
		devnull = open("/dev/null", O_WRONLY);
		saved_stderr = dup(2);
		if (devnull < 0 || saved_stderr < 0)
			abort();
	}
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	/* the reader's messages are not the fuzzer's: stderr muted meanwhile */
	fflush(stderr);
	dup2(devnull, 2);
	if (setjmp(back) == 0)
	{
		yaml_read_baseline(path, &b);
		baseline_free(&b);
	}
	/* the check's config file, from the same bytes */
	if (setjmp(back) == 0)
	{
		CheckConfig c;

		yaml_read_check_config(path, &c);
		check_config_free(&c);
	}
	/* the statistics profile, from the same bytes */
	if (setjmp(back) == 0)
	{
		StatsProfile p;

		yaml_read_stats(path, &p);
		stats_free(&p);
	}
	fflush(stderr);
	dup2(saved_stderr, 2);
	return 0;
}
