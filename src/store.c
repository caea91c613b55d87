/*-------------------------------------------------------------------------
 *
 * store.c
 *		The shared-memory store of observed plans.
 *
 * One entry per (database, query_hash, plan_hash), in a shared hash table
 * of guard.max_plans entries.  The variable-length texts of an entry (the
 * normalized query, the plan shape, the seq-scanned relations) live in one
 * chunk of a text arena of guard.text_memory bytes in guard's fixed shared
 * memory.  The arena allocates by bumping an offset; freed chunks are only
 * counted, and when the bump offset reaches the end the live chunks are
 * compacted to the front.  So texts always fit while the live ones fit: no
 * fragmentation, and the whole store is sized at start-up.
 *
 * Locking:
 *	- shared->lock (LWLock): LW_SHARED to look entries up and to copy them
 *	  out; LW_EXCLUSIVE to insert, evict and reset.  No file I/O and no
 *	  YAML under it.  On the hook paths nothing under it can ERROR
 *	  (allocations there use MCXT_ALLOC_NO_OOM and degrade), because the
 *	  hooks catch errors to fail open; guard_store_release_locks() is the
 *	  belt to those braces.
 *	- entry->mutex (spinlock): the counters and last_seen of one entry,
 *	  updated while holding the LWLock in shared mode.  Nothing that can
 *	  ERROR is done while holding it.
 *	- shared->mutex (spinlock): the store-wide statistics.
 *	- shared->generation (atomic): bumped whenever entries disappear
 *	  (eviction, reset); backends drop their local "already stored" cache
 *	  when it moves.
 * The text arena is protected by shared->lock like the hash table: read
 * under LW_SHARED, allocated, freed and compacted under LW_EXCLUSIVE.
 *
 * When the table is full, the least recently used 5 % of the entries (by
 * last_seen) are evicted and counted; when the text area is full, the same
 * eviction frees room.  A plan is never refused: at worst it is stored
 * without its texts, which is counted too.
 *
 * Persistence: the postmaster writes the store to pg_stat/guard.stat at
 * clean shutdown (guard.save) and reads it back at start, then removes the
 * file so that a crash never resurrects stale data (pg_stat_statements'
 * approach).  The file format is in doc/file-formats.md.
 *
 * IDENTIFICATION
 *		src/store.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <unistd.h>
#include <sys/stat.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "guard.h"
#include "store.h"

#define GUARD_STORE_FILE		PGSTAT_STAT_PERMANENT_DIRECTORY "/guard.stat"
#define GUARD_STORE_FILE_MAGIC	0x47445331	/* "GDS1" */
#define GUARD_STORE_FILE_VERSION 1
#define EVICT_PERCENT			5
#define EVICT_MIN				10

typedef struct GuardPlanKey
{
	Oid			dbid;
	uint32		pad;			/* always zero: keys are memset */
	uint64		query_hash;
	uint64		plan_hash;
} GuardPlanKey;

/* Counters of one entry, as saved to the file */
typedef struct GuardPlanCounters
{
	Oid			userid;			/* role that first ran the plan */
	uint32		flags;			/* GUARD_FP_* of the first planning */
	uint64		queryid;
	int64		calls;
	int64		generic_calls;
	int64		custom_calls;
	TimestampTz first_seen;
	TimestampTz last_seen;
} GuardPlanCounters;

typedef struct GuardPlanEntry
{
	GuardPlanKey key;			/* hash key: must be first */
	slock_t		mutex;			/* protects counters */
	GuardPlanCounters c;
	Size		texts_off;		/* GuardTextBlob in the arena */
	Size		texts_len;		/* 0: no texts */
} GuardPlanEntry;

/*
 * The texts of an entry, in one chunk:
 *	query '\0' plan '\0' then nseqscans x (float8 rows, name '\0')
 */
typedef struct GuardTextBlob
{
	int32		nseqscans;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} GuardTextBlob;

typedef struct GuardSharedState
{
	LWLock	   *lock;
	slock_t		mutex;			/* protects the statistics below */
	int64		evictions;
	int64		dropped_texts;
	TimestampTz stats_reset;
	pg_atomic_uint64 generation;
	/* text arena, under lock */
	Size		arena_size;
	Size		arena_used;		/* bump offset */
	Size		arena_live;		/* bytes of live chunks */
	int64		compactions;
} GuardSharedState;

static GuardSharedState *shared = NULL;
static HTAB *plan_hash = NULL;
static char *arena = NULL;

/*
 * Backend-local cache of entries known to be stored, direct-mapped by key.
 * Entries of a shared dynahash never move; they disappear only through
 * eviction or reset, which bump shared->generation under the exclusive
 * lock.  So while this backend holds the lock (any mode) and the
 * generation equals known_generation, a cached pointer whose key matches
 * is the live entry, and counting an execution needs no hash lookup.
 */
#define KNOWN_SIZE 256
static GuardPlanEntry *known_entries[KNOWN_SIZE];
static uint64 known_generation = 0;

static void store_shutdown(int code, Datum arg);
static uint32 plan_key_hash(const void *key, Size keysize);
static void store_load_file(void);

static Size
text_area_size(void)
{
	return (Size) guard_text_memory_kb * 1024;
}

/* guard_store_size: shared memory guard needs. */
Size
guard_store_size(void)
{
	Size		size = MAXALIGN(sizeof(GuardSharedState));

	size = add_size(size, hash_estimate_size(guard_max_plans, sizeof(GuardPlanEntry)));
	size = add_size(size, text_area_size());
	return size;
}

/* guard_store_request: reserve shared memory and the LWLock. */
void
guard_store_request(void)
{
	RequestAddinShmemSpace(guard_store_size());
	RequestNamedLWLockTranche("guard", 1);
}

/*
 * guard_store_startup: create or attach the store (shmem_startup_hook).
 * In the postmaster (or a standalone backend) this creates everything and
 * loads the saved file.
 */
void
guard_store_startup(void)
{
	bool		found;
	bool		found_area;
	HASHCTL		info;

	shared = NULL;
	plan_hash = NULL;
	arena = NULL;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);

	shared = ShmemInitStruct("guard", sizeof(GuardSharedState), &found);
	if (!found)
	{
		shared->lock = &(GetNamedLWLockTranche("guard"))->lock;
		SpinLockInit(&shared->mutex);
		shared->evictions = 0;
		shared->dropped_texts = 0;
		shared->stats_reset = GetCurrentTimestamp();
		pg_atomic_init_u64(&shared->generation, 1);
		shared->arena_size = text_area_size();
		shared->arena_used = 0;
		shared->arena_live = 0;
		shared->compactions = 0;
	}

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(GuardPlanKey);
	info.entrysize = sizeof(GuardPlanEntry);
	info.hash = plan_key_hash;
	plan_hash = ShmemInitHash("guard plans", guard_max_plans, guard_max_plans,
							  &info, HASH_ELEM | HASH_FUNCTION);

	arena = ShmemInitStruct("guard texts", shared->arena_size, &found_area);

	LWLockRelease(AddinShmemInitLock);

	if (!IsUnderPostmaster)
	{
		on_shmem_exit(store_shutdown, (Datum) 0);
		if (!found)
			store_load_file();
	}
}

/*
 * guard_store_release_locks: release guard's LWLock if this backend holds
 * it.  Called when a hook catches an error to fail open.
 */
void
guard_store_release_locks(void)
{
	if (shared != NULL && LWLockHeldByMe(shared->lock))
	{
		/*
		 * errfinish() zeroed InterruptHoldoffCount; LWLockRelease resumes
		 * the interrupts LWLockAcquire held, so hold them again first (as
		 * LWLockReleaseAll does) or the counter would wrap.
		 */
		HOLD_INTERRUPTS();
		LWLockRelease(shared->lock);
	}
}

bool
guard_store_ready(void)
{
	return shared != NULL && plan_hash != NULL;
}

/* guard_store_require: ERROR unless the store exists (SQL functions). */
void
guard_store_require(void)
{
	if (!guard_store_ready())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("guard must be loaded via shared_preload_libraries"),
				 errhint("Add guard to shared_preload_libraries in postgresql.conf and restart the server.")));
}

static int
cmp_entry_offset(const void *a, const void *b)
{
	Size		x = (*(GuardPlanEntry *const *) a)->texts_off;
	Size		y = (*(GuardPlanEntry *const *) b)->texts_off;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * Move every live chunk to the front of the arena, in offset order, so that
 * all free space is at the end.  Caller holds shared->lock exclusively.
 */
static void
arena_compact(void)
{
	HASH_SEQ_STATUS hs;
	GuardPlanEntry *entry;
	GuardPlanEntry **entries;
	long		count = hash_get_num_entries(plan_hash);
	int			n = 0;
	int			i;
	Size		off = 0;

	entries = palloc_extended(Max(count, 1) * sizeof(GuardPlanEntry *), MCXT_ALLOC_NO_OOM);
	if (entries == NULL)
		return;					/* out of memory: the caller drops the text */
	hash_seq_init(&hs, plan_hash);
	while ((entry = hash_seq_search(&hs)) != NULL)
		if (entry->texts_len > 0)
			entries[n++] = entry;
	qsort(entries, n, sizeof(GuardPlanEntry *), cmp_entry_offset);
	for (i = 0; i < n; i++)
	{
		if (entries[i]->texts_off != off)
			memmove(arena + off, arena + entries[i]->texts_off, entries[i]->texts_len);
		entries[i]->texts_off = off;
		off += MAXALIGN(entries[i]->texts_len);
	}
	pfree(entries);
	shared->arena_used = off;
	shared->arena_live = off;
	shared->compactions++;
}

/* Forget an entry's texts.  Caller holds shared->lock exclusively. */
static void
arena_free(GuardPlanEntry *entry)
{
	if (entry->texts_len > 0)
		shared->arena_live -= MAXALIGN(entry->texts_len);
	entry->texts_len = 0;
}

/*
 * Hash function of the shared table: the key is made of two good 64-bit
 * hashes already, so folding them is enough (and much cheaper than
 * hashing the key's bytes again).
 */
static inline uint32
fold_key(const GuardPlanKey *k)
{
	uint64		h = k->query_hash ^ (k->plan_hash * UINT64CONST(0x9e3779b97f4a7c15)) ^ k->dbid;

	return (uint32) (h ^ (h >> 32));
}

static uint32
plan_key_hash(const void *key, Size keysize)
{
	return fold_key((const GuardPlanKey *) key);
}

static inline void
make_key(GuardPlanKey *key, Oid dbid, uint64 query_hash, uint64 plan_hash_v)
{
	memset(key, 0, sizeof(*key));
	key->dbid = dbid;
	key->query_hash = query_hash;
	key->plan_hash = plan_hash_v;
}

static inline uint32
known_slot(const GuardPlanKey *key)
{
	return fold_key(key) % KNOWN_SIZE;
}

/*
 * Find the entry of key.  Caller holds shared->lock (any mode).  Uses and
 * fills the backend-local cache.
 */
static GuardPlanEntry *
lookup_locked(const GuardPlanKey *key)
{
	uint32		slot = known_slot(key);
	uint64		gen = pg_atomic_read_u64(&shared->generation);
	GuardPlanEntry *entry;

	if (gen != known_generation)
	{
		memset(known_entries, 0, sizeof(known_entries));
		known_generation = gen;
	}
	entry = known_entries[slot];
	if (entry != NULL &&
		entry->key.query_hash == key->query_hash &&
		entry->key.plan_hash == key->plan_hash &&
		entry->key.dbid == key->dbid)
		return entry;

	entry = hash_search(plan_hash, key, HASH_FIND, NULL);
	if (entry != NULL)
		known_entries[slot] = entry;
	return entry;
}

/*
 * guard_store_known: is this plan already in the store?  Asked at every
 * planning, so the common answer comes from the backend-local cache
 * without taking the lock: a cached entry whose key still matches while
 * the generation is unchanged is the plan's entry.  Racing with an
 * eviction can only answer "known" for a plan just evicted; the execution
 * path then finds it missing and re-adds it.  A cache miss takes the
 * shared lock and looks the plan up.
 */
bool
guard_store_known(Oid dbid, const GuardFingerprint *fp)
{
	GuardPlanKey key;
	GuardPlanEntry *entry;
	bool		found;

	make_key(&key, dbid, fp->query_hash, fp->plan_hash);
	if (pg_atomic_read_u64(&shared->generation) == known_generation)
	{
		entry = known_entries[known_slot(&key)];
		if (entry != NULL &&
			entry->key.query_hash == key.query_hash &&
			entry->key.plan_hash == key.plan_hash &&
			entry->key.dbid == key.dbid)
			return true;
	}
	LWLockAcquire(shared->lock, LW_SHARED);
	found = lookup_locked(&key) != NULL;
	LWLockRelease(shared->lock);
	return found;
}

/* Serialize texts into one palloc'd blob; returns its size. */
static Size
build_blob(const GuardPlanTexts *texts, GuardTextBlob **result)
{
	Size		len = offsetof(GuardTextBlob, data);
	GuardTextBlob *blob;
	char	   *p;
	int			i;

	len += strlen(texts->query) + 1 + strlen(texts->plan) + 1;
	for (i = 0; i < texts->nseqscans; i++)
		len += sizeof(float8) + strlen(texts->seqscans[i].relname) + 1;
	blob = palloc(len);
	blob->nseqscans = texts->nseqscans;
	p = blob->data;
	strcpy(p, texts->query);
	p += strlen(p) + 1;
	strcpy(p, texts->plan);
	p += strlen(p) + 1;
	for (i = 0; i < texts->nseqscans; i++)
	{
		float8		rows = texts->seqscans[i].rows;

		memcpy(p, &rows, sizeof(float8));
		p += sizeof(float8);
		strcpy(p, texts->seqscans[i].relname);
		p += strlen(p) + 1;
	}
	*result = blob;
	return len;
}

/*
 * Unpack a blob into a row.  Every string is bounded by the blob's end, so
 * a damaged blob (only a damaged saved file could hold one) yields empty or
 * cut texts, never a read past the end.
 */
static const char *
next_string(const char **p, const char *end)
{
	const char *s = *p;
	size_t		n;

	if (s >= end)
		return pstrdup("");
	n = strnlen(s, end - s);
	*p = s + Min(n + 1, (size_t) (end - s));
	return pnstrdup(s, n);
}

static void
unpack_blob(const char *blobp, Size len, GuardPlanRow *row)
{
	const GuardTextBlob *blob = (const GuardTextBlob *) blobp;
	const char *end = blobp + len;
	const char *p = blob->data;
	int			n = Max(blob->nseqscans, 0);
	int			i;

	row->query = (char *) next_string(&p, end);
	row->plan = (char *) next_string(&p, end);
	row->nseqscans = 0;
	row->seqscans = palloc0(Max(Min(n, 1024), 1) * sizeof(GuardSeqScan));
	for (i = 0; i < n && i < 1024 && p + sizeof(float8) < end; i++)
	{
		memcpy(&row->seqscans[i].rows, p, sizeof(float8));
		p += sizeof(float8);
		row->seqscans[i].relname = (char *) next_string(&p, end);
		row->nseqscans++;
	}
}

static int
cmp_entry_lru(const void *a, const void *b)
{
	TimestampTz x = (*(GuardPlanEntry *const *) a)->c.last_seen;
	TimestampTz y = (*(GuardPlanEntry *const *) b)->c.last_seen;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * Evict the least recently used entries.  Caller holds shared->lock
 * exclusively.
 */
static void
evict_lru(void)
{
	HASH_SEQ_STATUS hs;
	GuardPlanEntry *entry;
	GuardPlanEntry **entries;
	int			n = 0;
	int			nvictims;
	int			i;
	long		count = hash_get_num_entries(plan_hash);

	if (count == 0)
		return;
	entries = palloc_extended(count * sizeof(GuardPlanEntry *), MCXT_ALLOC_NO_OOM);
	if (entries == NULL)
		return;					/* out of memory: try again next time */
	hash_seq_init(&hs, plan_hash);
	while ((entry = hash_seq_search(&hs)) != NULL)
		entries[n++] = entry;
	qsort(entries, n, sizeof(GuardPlanEntry *), cmp_entry_lru);

	nvictims = Max(EVICT_MIN, n * EVICT_PERCENT / 100);
	nvictims = Min(nvictims, n);
	for (i = 0; i < nvictims; i++)
	{
		arena_free(entries[i]);
		hash_search(plan_hash, &entries[i]->key, HASH_REMOVE, NULL);
	}
	pfree(entries);

	SpinLockAcquire(&shared->mutex);
	shared->evictions += nvictims;
	SpinLockRelease(&shared->mutex);
	pg_atomic_fetch_add_u64(&shared->generation, 1);
}

/*
 * Insert an entry under the exclusive lock.  Returns the entry (new or
 * already there).  blob may be NULL.
 */
static GuardPlanEntry *
insert_locked(GuardPlanKey *key, const GuardPlanCounters *c,
			  const void *blob, Size blob_len, bool *created)
{
	GuardPlanEntry *entry;
	bool		found;
	Size		need = MAXALIGN(blob_len);
	bool		have_text = false;
	Size		off = 0;

	entry = hash_search(plan_hash, key, HASH_FIND, NULL);
	if (entry)
	{
		*created = false;
		return entry;
	}
	if (hash_get_num_entries(plan_hash) >= guard_max_plans)
		evict_lru();

	if (blob != NULL && need <= shared->arena_size)
	{
		/* make room: evict least recently used plans while live texts don't fit */
		while (shared->arena_live + need > shared->arena_size &&
			   hash_get_num_entries(plan_hash) > 0)
		{
			long		before = hash_get_num_entries(plan_hash);

			evict_lru();
			if (hash_get_num_entries(plan_hash) == before)
				break;			/* could not evict (out of memory) */
		}
		if (shared->arena_live + need <= shared->arena_size &&
			shared->arena_used + need > shared->arena_size)
			arena_compact();
		if (shared->arena_used + need <= shared->arena_size)
		{
			off = shared->arena_used;
			memcpy(arena + off, blob, blob_len);
			shared->arena_used += need;
			shared->arena_live += need;
			have_text = true;
		}
	}
	if (blob != NULL && !have_text)
	{
		SpinLockAcquire(&shared->mutex);
		shared->dropped_texts++;
		SpinLockRelease(&shared->mutex);
	}

	entry = hash_search(plan_hash, key, HASH_ENTER_NULL, &found);
	if (entry == NULL)
	{
		/* out of shared hash memory despite the bound: give up quietly */
		if (have_text)
			shared->arena_live -= need;
		*created = false;
		return NULL;
	}
	SpinLockInit(&entry->mutex);
	entry->c = *c;
	entry->texts_off = off;
	entry->texts_len = have_text ? blob_len : 0;
	*created = true;
	return entry;
}

/*
 * guard_store_add: record a newly planned plan (no execution counted).
 * Texts are serialized before taking the lock.
 */
void
guard_store_add(Oid dbid, Oid userid, const GuardFingerprint *fp,
				const GuardPlanTexts *texts)
{
	GuardPlanKey key;
	GuardPlanCounters c;
	GuardTextBlob *blob = NULL;
	Size		blob_len = 0;
	bool		created;

	if (texts)
		blob_len = build_blob(texts, &blob);

	make_key(&key, dbid, fp->query_hash, fp->plan_hash);
	memset(&c, 0, sizeof(c));
	c.userid = userid;
	c.flags = fp->flags;
	c.queryid = fp->queryid;
	c.first_seen = GetCurrentTimestamp();
	c.last_seen = c.first_seen;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (guard_debug_fault == GUARD_FAULT_STORE)
		elog(ERROR, "injected fault under the store lock (guard.debug_fault)");
	(void) insert_locked(&key, &c, blob, blob_len, &created);
	LWLockRelease(shared->lock);

	if (blob)
		pfree(blob);
}

/*
 * guard_store_mark_refused: guard blocked or throttled an execution of the
 * plan (its calls count those too): approve_observed must not take it for
 * a plan that ran.  Cannot fail; a plan no longer stored is left alone.
 */
void
guard_store_mark_refused(Oid dbid, const GuardFingerprint *fp)
{
	GuardPlanKey key;
	GuardPlanEntry *entry;

	make_key(&key, dbid, fp->query_hash, fp->plan_hash);
	LWLockAcquire(shared->lock, LW_SHARED);
	entry = lookup_locked(&key);
	if (entry)
	{
		SpinLockAcquire(&entry->mutex);
		entry->c.flags |= GUARD_FP_REFUSED;
		SpinLockRelease(&entry->mutex);
	}
	LWLockRelease(shared->lock);
}

/*
 * guard_store_count: count one execution of a plan.  Returns false if the
 * plan is not in the store (evicted since it was planned); the caller then
 * adds it and counts again.  Cannot ERROR: this is the executor's fast
 * path, run without a PG_TRY.
 */
bool
guard_store_count(Oid dbid, const GuardFingerprint *fp, TimestampTz now)
{
	GuardPlanKey key;
	GuardPlanEntry *entry;

	make_key(&key, dbid, fp->query_hash, fp->plan_hash);
	LWLockAcquire(shared->lock, LW_SHARED);
	entry = lookup_locked(&key);
	if (entry)
	{
		SpinLockAcquire(&entry->mutex);
		entry->c.calls++;
		if (fp->flags & GUARD_FP_GENERIC)
			entry->c.generic_calls++;
		else if (fp->flags & GUARD_FP_CUSTOM)
			entry->c.custom_calls++;
		if (entry->c.queryid == 0)
			entry->c.queryid = fp->queryid;

		/*
		 * now is the statement's start, older than the planning that may
		 * have created the entry (first_seen), and concurrent first
		 * executions arrive in any order: first_seen only moves back and
		 * last_seen only forward, so first_seen <= last_seen always, and
		 * first_seen is the start of the earliest execution.
		 */
		if (now > entry->c.last_seen)
			entry->c.last_seen = now;
		if (now < entry->c.first_seen)
			entry->c.first_seen = now;
		SpinLockRelease(&entry->mutex);
	}
	LWLockRelease(shared->lock);
	return entry != NULL;
}

/* guard_store_reset: forget every observed plan. */
void
guard_store_reset(void)
{
	HASH_SEQ_STATUS hs;
	GuardPlanEntry *entry;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	hash_seq_init(&hs, plan_hash);
	while ((entry = hash_seq_search(&hs)) != NULL)
	{
		arena_free(entry);
		hash_search(plan_hash, &entry->key, HASH_REMOVE, NULL);
	}
	shared->arena_used = 0;
	shared->arena_live = 0;
	SpinLockAcquire(&shared->mutex);
	shared->evictions = 0;
	shared->dropped_texts = 0;
	shared->stats_reset = GetCurrentTimestamp();
	SpinLockRelease(&shared->mutex);
	pg_atomic_fetch_add_u64(&shared->generation, 1);
	LWLockRelease(shared->lock);
}

/*
 * guard_store_reset_matching: forget the plans of role userid (the role
 * that first ran them) in database dbid with statement query_hash; 0
 * matches any.  The counters and stats_reset stay: only a full reset
 * (guard_store_reset) zeroes them.
 */
void
guard_store_reset_matching(Oid userid, Oid dbid, uint64 query_hash)
{
	HASH_SEQ_STATUS hs;
	GuardPlanEntry *entry;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	hash_seq_init(&hs, plan_hash);
	while ((entry = hash_seq_search(&hs)) != NULL)
	{
		if ((userid != InvalidOid && entry->c.userid != userid) ||
			(dbid != InvalidOid && entry->key.dbid != dbid) ||
			(query_hash != 0 && entry->key.query_hash != query_hash))
			continue;
		arena_free(entry);
		hash_search(plan_hash, &entry->key, HASH_REMOVE, NULL);
	}
	pg_atomic_fetch_add_u64(&shared->generation, 1);
	LWLockRelease(shared->lock);
}

/*
 * guard_store_snapshot: copy every entry out (texts too if asked), under
 * the shared lock.  Returns a palloc'd array.
 */
GuardPlanRow *
guard_store_snapshot(int *nrows, bool with_texts)
{
	HASH_SEQ_STATUS hs;
	GuardPlanEntry *entry;
	GuardPlanRow *rows;
	int			n = 0;
	long		max;

	LWLockAcquire(shared->lock, LW_SHARED);
	max = hash_get_num_entries(plan_hash);
	rows = palloc0(Max(max, 1) * sizeof(GuardPlanRow));
	hash_seq_init(&hs, plan_hash);
	while ((entry = hash_seq_search(&hs)) != NULL)
	{
		GuardPlanRow *row = &rows[n++];
		GuardPlanCounters c;

		SpinLockAcquire(&entry->mutex);
		c = entry->c;
		SpinLockRelease(&entry->mutex);

		row->dbid = entry->key.dbid;
		row->query_hash = entry->key.query_hash;
		row->plan_hash = entry->key.plan_hash;
		row->userid = c.userid;
		row->queryid = c.queryid;
		row->flags = c.flags;
		row->calls = c.calls;
		row->generic_calls = c.generic_calls;
		row->custom_calls = c.custom_calls;
		row->first_seen = c.first_seen;
		row->last_seen = c.last_seen;
		if (with_texts && entry->texts_len > 0)
			unpack_blob(arena + entry->texts_off, entry->texts_len, row);
	}
	LWLockRelease(shared->lock);
	*nrows = n;
	return rows;
}

/*
 * guard_store_get: copy one entry out, with its texts.  Returns false if
 * the store does not hold the plan.
 */
bool
guard_store_get(Oid dbid, uint64 query_hash, uint64 plan_hash_v, GuardPlanRow *row)
{
	GuardPlanKey key;
	GuardPlanEntry *entry;

	memset(row, 0, sizeof(*row));
	make_key(&key, dbid, query_hash, plan_hash_v);
	LWLockAcquire(shared->lock, LW_SHARED);
	entry = hash_search(plan_hash, &key, HASH_FIND, NULL);
	if (entry)
	{
		row->dbid = dbid;
		row->query_hash = query_hash;
		row->plan_hash = plan_hash_v;
		SpinLockAcquire(&entry->mutex);
		row->userid = entry->c.userid;
		row->queryid = entry->c.queryid;
		row->flags = entry->c.flags;
		row->calls = entry->c.calls;
		row->first_seen = entry->c.first_seen;
		row->last_seen = entry->c.last_seen;
		SpinLockRelease(&entry->mutex);
		if (entry->texts_len > 0)
			unpack_blob(arena + entry->texts_off, entry->texts_len, row);
	}
	LWLockRelease(shared->lock);
	return entry != NULL;
}

/* Equal but for parentheses and white space?  Allocates nothing. */
static bool
same_but_parentheses(const char *a, const char *b)
{
	for (;;)
	{
		while (*a == '(' || *a == ')' || isspace((unsigned char) *a))
			a++;
		while (*b == '(' || *b == ')' || isspace((unsigned char) *b))
			b++;
		if (*a != *b)
			return false;
		if (*a == '\0')
			return true;
		a++;
		b++;
	}
}

/*
 * guard_store_siblings: other statements of dbid whose text differs from
 * query only in parentheses (and white space): the statement a lost pair
 * of parentheses came from.  Fills up to max (query_hash, plan_hash) pairs
 * and returns how many.  Compares under the shared lock, copying nothing.
 */
int
guard_store_siblings(Oid dbid, uint64 query_hash, const char *query,
					 uint64 *pairs, int max)
{
	HASH_SEQ_STATUS hs;
	GuardPlanEntry *entry;
	int			n = 0;

	LWLockAcquire(shared->lock, LW_SHARED);
	hash_seq_init(&hs, plan_hash);
	while ((entry = hash_seq_search(&hs)) != NULL)
	{
		const GuardTextBlob *blob;

		if (entry->key.dbid != dbid || entry->key.query_hash == query_hash ||
			entry->texts_len == 0)
			continue;
		blob = (const GuardTextBlob *) (arena + entry->texts_off);
		if (!same_but_parentheses(blob->data, query))
			continue;
		pairs[2 * n] = entry->key.query_hash;
		pairs[2 * n + 1] = entry->key.plan_hash;
		if (++n >= max)
		{
			hash_seq_term(&hs);
			break;
		}
	}
	LWLockRelease(shared->lock);
	return n;
}

/*
 * guard_store_aliases: the other statements of dbid that have plan
 * plan_hash and the same normalized text as (query_hash, plan_hash) up to
 * the numbering of $n: the same statement sent through the other protocol
 * (literal values, or parameters), whose query_hash differs because a
 * parameter and a constant jumble differently.  Fills up to max query
 * hashes and returns how many (0 if the plan or its text is not stored).
 * Compares under the shared lock, copying nothing; scans the store, so
 * callers use it on rare paths only (a new incident, a decision).
 */
int
guard_store_aliases(Oid dbid, uint64 query_hash, uint64 plan_hash_v,
					uint64 *aliases, int max)
{
	GuardPlanKey key;
	GuardPlanEntry *own;
	HASH_SEQ_STATUS hs;
	GuardPlanEntry *entry;
	const char *text;
	int			n = 0;

	make_key(&key, dbid, query_hash, plan_hash_v);
	LWLockAcquire(shared->lock, LW_SHARED);
	own = hash_search(plan_hash, &key, HASH_FIND, NULL);
	if (own == NULL || own->texts_len == 0)
	{
		LWLockRelease(shared->lock);
		return 0;
	}
	text = ((const GuardTextBlob *) (arena + own->texts_off))->data;
	hash_seq_init(&hs, plan_hash);
	while ((entry = hash_seq_search(&hs)) != NULL)
	{
		if (entry->key.dbid != dbid || entry->key.query_hash == query_hash ||
			entry->key.plan_hash != key.plan_hash || entry->texts_len == 0)
			continue;
		if (!guard_same_but_params(((const GuardTextBlob *) (arena + entry->texts_off))->data,
							 text))
			continue;
		aliases[n++] = entry->key.query_hash;
		if (n >= max)
		{
			hash_seq_term(&hs);
			break;
		}
	}
	LWLockRelease(shared->lock);
	return n;
}

/* guard_store_info: store-wide statistics. */
void
guard_store_info(GuardStoreInfo *info)
{
	LWLockAcquire(shared->lock, LW_SHARED);
	info->plans = hash_get_num_entries(plan_hash);
	info->text_bytes = shared->arena_live;
	info->text_limit = shared->arena_size;
	LWLockRelease(shared->lock);

	info->max_plans = guard_max_plans;
	SpinLockAcquire(&shared->mutex);
	info->evictions = shared->evictions;
	info->dropped_texts = shared->dropped_texts;
	info->stats_reset = shared->stats_reset;
	SpinLockRelease(&shared->mutex);
}

/* ---------------------------------------------------------------------
 * Persistence
 * ---------------------------------------------------------------------
 */
typedef struct GuardFileHeader
{
	uint32		magic;
	uint32		version;
	uint32		pg_version;
	uint32		fingerprint_version;
	int64		count;
} GuardFileHeader;

typedef struct GuardFileRecord
{
	GuardPlanKey key;
	GuardPlanCounters c;
	uint64		texts_len;
} GuardFileRecord;

/*
 * store_shutdown: write the store to disk at clean postmaster shutdown.
 * Runs in the postmaster (or standalone backend) only; no lock is taken
 * because no backend is left.
 */
static void
store_shutdown(int code, Datum arg)
{
	FILE	   *file = NULL;
	HASH_SEQ_STATUS hs;
	GuardPlanEntry *entry;
	GuardFileHeader hdr;
	uint32		trailer = GUARD_STORE_FILE_MAGIC;

	/* never after a crash; nothing to save if never set up */
	if (code != 0 || !guard_store_ready())
		return;
	if (!guard_save)
	{
		unlink(GUARD_STORE_FILE);
		return;
	}

	file = AllocateFile(GUARD_STORE_FILE ".tmp", PG_BINARY_W);
	if (file == NULL)
		goto error;

	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = GUARD_STORE_FILE_MAGIC;
	hdr.version = GUARD_STORE_FILE_VERSION;
	hdr.pg_version = PG_VERSION_NUM / 100;
	hdr.fingerprint_version = GUARD_FINGERPRINT_VERSION;
	hdr.count = hash_get_num_entries(plan_hash);
	if (fwrite(&hdr, sizeof(hdr), 1, file) != 1)
		goto error;

	hash_seq_init(&hs, plan_hash);
	while ((entry = hash_seq_search(&hs)) != NULL)
	{
		GuardFileRecord rec;

		memset(&rec, 0, sizeof(rec));
		rec.key = entry->key;
		rec.c = entry->c;
		rec.texts_len = entry->texts_len;
		if (fwrite(&rec, sizeof(rec), 1, file) != 1 ||
			(rec.texts_len > 0 &&
			 fwrite(arena + entry->texts_off, rec.texts_len, 1, file) != 1))
		{
			hash_seq_term(&hs);
			goto error;
		}
	}
	if (fwrite(&trailer, sizeof(trailer), 1, file) != 1)
		goto error;
	if (FreeFile(file))
	{
		file = NULL;
		goto error;
	}
	(void) durable_rename(GUARD_STORE_FILE ".tmp", GUARD_STORE_FILE, LOG);
	return;

error:
	ereport(LOG,
			(errcode_for_file_access(),
			 errmsg("could not write file \"%s\": %m", GUARD_STORE_FILE ".tmp")));
	if (file)
		FreeFile(file);
	unlink(GUARD_STORE_FILE ".tmp");
}

/*
 * store_load_file: read the saved store at start-up (postmaster, before
 * any backend exists).  A file that is damaged, or written by another
 * version of the file format, of PostgreSQL or of the fingerprint rules,
 * is ignored with a LOG message: observed plans are a cache, not data.
 */
static void
store_load_file(void)
{
	FILE	   *file;
	GuardFileHeader hdr;
	int64		i;
	char	   *buf = NULL;
	Size		buflen = 0;
	uint32		trailer;

	file = AllocateFile(GUARD_STORE_FILE, PG_BINARY_R);
	if (file == NULL)
	{
		if (errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", GUARD_STORE_FILE)));
		return;
	}

	if (fread(&hdr, sizeof(hdr), 1, file) != 1)
		goto bad;
	if (hdr.magic != GUARD_STORE_FILE_MAGIC ||
		hdr.version != GUARD_STORE_FILE_VERSION ||
		hdr.pg_version != PG_VERSION_NUM / 100 ||
		hdr.fingerprint_version != GUARD_FINGERPRINT_VERSION)
	{
		ereport(LOG,
				(errmsg("ignoring file \"%s\" written by another version of guard or PostgreSQL",
						GUARD_STORE_FILE),
				 hdr.magic != GUARD_STORE_FILE_MAGIC ? 0 :
				 errdetail("The file has format %u, PostgreSQL major %u and fingerprint rules %u; this server %u, %u and %u.",
						   hdr.version, hdr.pg_version, hdr.fingerprint_version,
						   (unsigned int) GUARD_STORE_FILE_VERSION,
						   (unsigned int) (PG_VERSION_NUM / 100),
						   (unsigned int) GUARD_FINGERPRINT_VERSION)));
		goto done;
	}
	if (hdr.count < 0)
		goto bad;

	for (i = 0; i < hdr.count; i++)
	{
		GuardFileRecord rec;
		GuardPlanKey key;
		bool		created;

		if (fread(&rec, sizeof(rec), 1, file) != 1)
			goto bad;
		if (rec.texts_len > (uint64) shared->arena_size)
			goto bad;
		if (rec.texts_len > buflen)
		{
			buflen = Max(rec.texts_len, 1024);
			buf = buf ? repalloc(buf, buflen) : palloc(buflen);
		}
		if (rec.texts_len > 0 && fread(buf, rec.texts_len, 1, file) != 1)
			goto bad;
		if (rec.texts_len > 0 &&
			(rec.texts_len < offsetof(GuardTextBlob, data) + 2 ||
			 buf[rec.texts_len - 1] != '\0'))
			goto bad;

		/* the file may hold more than guard.max_plans now allows */
		make_key(&key, rec.key.dbid, rec.key.query_hash, rec.key.plan_hash);
		(void) insert_locked(&key, &rec.c, rec.texts_len > 0 ? buf : NULL,
							 rec.texts_len, &created);
	}
	if (fread(&trailer, sizeof(trailer), 1, file) != 1 ||
		trailer != GUARD_STORE_FILE_MAGIC)
		goto bad;
	goto done;

bad:
	ereport(LOG,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("ignoring damaged file \"%s\"", GUARD_STORE_FILE)));
	/* start empty rather than with part of the file */
	{
		HASH_SEQ_STATUS hs;
		GuardPlanEntry *entry;

		hash_seq_init(&hs, plan_hash);
		while ((entry = hash_seq_search(&hs)) != NULL)
			hash_search(plan_hash, &entry->key, HASH_REMOVE, NULL);
		shared->arena_used = 0;
		shared->arena_live = 0;
	}

done:
	if (buf)
		pfree(buf);
	FreeFile(file);
	unlink(GUARD_STORE_FILE);
}
