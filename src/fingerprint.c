/*-------------------------------------------------------------------------
 *
 * fingerprint.c
 *		Portable fingerprints of statements and plans.
 *
 * Pure functions of a parse tree or a plan tree: no locks, no I/O, no
 * shared state.  The rules are versioned (GUARD_FINGERPRINT_VERSION) and
 * written down in doc/fingerprint.md; any change to what is hashed below
 * must bump the version and update that document.  Two versions live side
 * by side, chosen at server start (guard.fingerprint_rules): 1 mixes
 * PostgreSQL's NodeTag and enum numbers, 2 guard's own (tag_value(),
 * ENUMV()), so that its hashes agree across major versions.
 *
 * query_hash jumbles the Query the planner receives: node types, operators,
 * functions, types and relations by portable name (namecache.c), columns by
 * name; never constant values, parameter values, locations, or aliases.
 *
 * plan_hash hashes the plan tree's structure: node types, join types, scan
 * methods, relation and index names, scan direction, aggregate and set-op
 * strategies, the DML operation and its targets, subplans and the shape of
 * the tree.  Never costs, row estimates, worker counts, range-table
 * positions, or which partitions of one parent were kept: the children of
 * an Append or MergeAppend are hashed as the set of their distinct hashes,
 * and a scan of a partition (or inheritance child) hashes as a scan of its
 * topmost parent, an index of a partition by its key columns.
 *
 * The two hashes travel inside the PlannedStmt as PlanInvalItems with
 * cacheIds no syscache has (negative): plancache only ever compares
 * cacheIds for equality, and copyObject keeps them, so a cached plan
 * carries its fingerprint for its whole life and is never re-hashed.
 *
 * IDENTIFICATION
 *		src/fingerprint.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/partition.h"

#include "catalog/pg_class.h"
#include "catalog/pg_opclass.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "rewrite/rewriteManip.h"
#include "utils/rel.h"

#include "compat.h"
#include "guard.h"
#include "fingerprint.h"
#include "namecache.h"

/* ---------------------------------------------------------------------
 * Hash mixing
 * ---------------------------------------------------------------------
 */
static inline uint64
rotl64(uint64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/*
 * One mixing step per field: rotate, xor, multiply (the FxHash step).  A
 * few instructions, because a statement mixes some fifty fields on every
 * planning; the rotation carries high bits down so that differences do
 * not cancel, and finish() avalanches the result.
 */
static inline uint64
mix(uint64 h, uint64 v)
{
	return (rotl64(h, 5) ^ v) * UINT64CONST(0x517cc1b727220a95);
}

static inline uint64
finish(uint64 h)
{
	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

/* ---------------------------------------------------------------------
 * Rules: what a node type and an enum member contribute
 *
 * Rules 1 (guard.fingerprint_rules = 1) mix PostgreSQL's own numbers: the
 * NodeTag and the enum member's position, both of which a major version
 * may renumber.  Rules 2 mix guard's own: a node type by a hash of its
 * name (nodenames.h), an enum member by the number enum_v2() gives its
 * name.  Every node type and every enum member reaches a hash through
 * tag_value() and ENUMV(), so no other line needs to know the rules.
 *
 * Cost under rules 1: the rules are fixed at server start, so each walk
 * picks its table once (select_rules); a node type is then one load from
 * an identity table, and an enum member one load from another.
 * ---------------------------------------------------------------------
 */
#define GUARD_TAG_SLOTS		1024	/* a power of two above every NodeTag */

static uint64 tag_values[GUARD_TAG_SLOTS];
static bool tag_values_ready = false;

static uint64
name_hash(const char *name)
{
	return hash_bytes_extended((const unsigned char *) name, strlen(name), 0);
}

/*
 * build_tag_values: the value each NodeTag contributes.  Rules 1: the tag
 * itself (the hashes stay bit for bit what they were); rules 2: the hash
 * of the type's name, and one constant for a type nodenames.h does not
 * list.  The static assertions prove that under rules 1 no listed tag is
 * folded by the mask in tag_value().
 */
static void
build_tag_values(void)
{
	int			i;
	uint64		unknown = name_hash("?");

	for (i = 0; i < GUARD_TAG_SLOTS; i++)
		tag_values[i] = guard_fingerprint_rules >= 2 ? unknown : (uint64) i;
#define GUARD_NODETAG(name) \
	StaticAssertStmt(T_##name < GUARD_TAG_SLOTS, "NodeTag above GUARD_TAG_SLOTS"); \
	if (guard_fingerprint_rules >= 2) \
		tag_values[T_##name] = name_hash(#name);
#include "nodenames.h"
#undef GUARD_NODETAG
	tag_values_ready = true;
}

static void build_enum_values(void);

/* The tag and enum tables of the rules in force; built once per backend. */
static inline const uint64 *
select_rules(void)
{
	if (unlikely(!tag_values_ready))
	{
		build_enum_values();
		build_tag_values();
	}
	return tag_values;
}

/* What a node type contributes: the one way a NodeTag reaches a hash */
static inline uint64
tag_value(const uint64 *tags, NodeTag tag)
{
	return tags[(uint32) tag & (GUARD_TAG_SLOTS - 1)];
}

/* The enums whose members reach a hash */
typedef enum GuardEnum
{
	GE_CMD,						/* CmdType */
	GE_RTE,						/* RTEKind */
	GE_JOIN,					/* JoinType */
	GE_LIMIT,					/* LimitOption */
	GE_LOCKSTRENGTH,			/* LockClauseStrength */
	GE_LOCKWAIT,				/* LockWaitPolicy */
	GE_PARAM,					/* ParamKind */
	GE_BOOLEXPR,				/* BoolExprType */
	GE_SUBLINK,					/* SubLinkType */
	GE_ROWCOMPARE,				/* RowCompareType (15), CompareType (18) */
	GE_MINMAX,					/* MinMaxOp */
	GE_SVF,						/* SQLValueFunctionOp */
	GE_XML,						/* XmlExprOp */
	GE_NULLTEST,				/* NullTestType */
	GE_BOOLTEST,				/* BoolTestType */
	GE_ONCONFLICT,				/* OnConflictAction */
	GE_GROUPINGSET,				/* GroupingSetKind */
	GE_SETOPERATION,			/* SetOperation (query) */
	GE_CTEMATERIALIZE,			/* CTEMaterialize */
	GE_SCANDIR,					/* ScanDirection */
	GE_AGGSTRATEGY,				/* AggStrategy */
	GE_AGGSPLIT,				/* AggSplit (flag bits) */
	GE_SETOPCMD,				/* SetOpCmd (plan) */
	GE_SETOPSTRATEGY			/* SetOpStrategy (plan) */
} GuardEnum;

/* a member enum_v2 does not know (a major newer than 18 added it) */
#define GUARD_ENUM_UNKNOWN	0x3F3F

/*
 * enum_v2: guard's own number for an enum member, by the member's name.
 * The numbers are part of rules 2 and never change: a member a newer major
 * adds gets a new number, one it removes keeps its number unused.  They
 * are small (below 256), as the callers that pack them next to other
 * fields need.
 */
static uint64
enum_v2(GuardEnum kind, int v)
{
	switch (kind)
	{
		case GE_CMD:
			switch ((CmdType) v)
			{
				case CMD_UNKNOWN:
					return 1;
				case CMD_SELECT:
					return 2;
				case CMD_UPDATE:
					return 3;
				case CMD_INSERT:
					return 4;
				case CMD_DELETE:
					return 5;
				case CMD_MERGE:
					return 6;
				case CMD_UTILITY:
					return 7;
				case CMD_NOTHING:
					return 8;
			}
			break;
		case GE_RTE:
			switch ((RTEKind) v)
			{
				case RTE_RELATION:
					return 1;
				case RTE_SUBQUERY:
					return 2;
				case RTE_JOIN:
					return 3;
				case RTE_FUNCTION:
					return 4;
				case RTE_TABLEFUNC:
					return 5;
				case RTE_VALUES:
					return 6;
				case RTE_CTE:
					return 7;
				case RTE_NAMEDTUPLESTORE:
					return 8;
				case RTE_RESULT:
					return 9;
#ifdef GUARD_HAVE_RTE_GROUP
				case RTE_GROUP:
					return 10;	/* never hashed: see group_var_expr() */
#endif
			}
			break;
		case GE_JOIN:
			switch ((JoinType) v)
			{
				case JOIN_INNER:
					return 1;
				case JOIN_LEFT:
					return 2;
				case JOIN_FULL:
					return 3;
				case JOIN_RIGHT:
					return 4;
				case JOIN_SEMI:
					return 5;
				case JOIN_ANTI:
					return 6;
				case JOIN_UNIQUE_OUTER:
					return 7;
				case JOIN_UNIQUE_INNER:
					return 8;
#ifdef GUARD_HAVE_JOIN_RIGHT_ANTI
				case JOIN_RIGHT_ANTI:
					return 9;
#endif
#ifdef GUARD_HAVE_JOIN_RIGHT_SEMI
				case JOIN_RIGHT_SEMI:
					return 10;
#endif
			}
			break;
		case GE_LIMIT:
			switch ((LimitOption) v)
			{
				case LIMIT_OPTION_COUNT:
					return 1;
				case LIMIT_OPTION_WITH_TIES:
					return 2;
#ifdef GUARD_HAVE_LIMIT_OPTION_DEFAULT
				case LIMIT_OPTION_DEFAULT:
					return 1;	/* never set by 15's parser; 16 dropped it */
#endif
			}
			break;
		case GE_LOCKSTRENGTH:
			switch ((LockClauseStrength) v)
			{
				case LCS_NONE:
					return 1;
				case LCS_FORKEYSHARE:
					return 2;
				case LCS_FORSHARE:
					return 3;
				case LCS_FORNOKEYUPDATE:
					return 4;
				case LCS_FORUPDATE:
					return 5;
			}
			break;
		case GE_LOCKWAIT:
			switch ((LockWaitPolicy) v)
			{
				case LockWaitBlock:
					return 1;
				case LockWaitSkip:
					return 2;
				case LockWaitError:
					return 3;
			}
			break;
		case GE_PARAM:
			switch ((ParamKind) v)
			{
				case PARAM_EXTERN:
					return 1;
				case PARAM_EXEC:
					return 2;
				case PARAM_SUBLINK:
					return 3;
				case PARAM_MULTIEXPR:
					return 4;
			}
			break;
		case GE_BOOLEXPR:
			switch ((BoolExprType) v)
			{
				case AND_EXPR:
					return 1;
				case OR_EXPR:
					return 2;
				case NOT_EXPR:
					return 3;
			}
			break;
		case GE_SUBLINK:
			switch ((SubLinkType) v)
			{
				case EXISTS_SUBLINK:
					return 1;
				case ALL_SUBLINK:
					return 2;
				case ANY_SUBLINK:
					return 3;
				case ROWCOMPARE_SUBLINK:
					return 4;
				case EXPR_SUBLINK:
					return 5;
				case MULTIEXPR_SUBLINK:
					return 6;
				case ARRAY_SUBLINK:
					return 7;
				case CTE_SUBLINK:
					return 8;
			}
			break;
		case GE_ROWCOMPARE:
			/* LT..NE are the btree strategy numbers 1..6 in both enums */
			if (v >= 1 && v <= 6)
				return (uint64) v;
			break;
		case GE_MINMAX:
			switch ((MinMaxOp) v)
			{
				case IS_GREATEST:
					return 1;
				case IS_LEAST:
					return 2;
			}
			break;
		case GE_SVF:
			switch ((SQLValueFunctionOp) v)
			{
				case SVFOP_CURRENT_DATE:
					return 1;
				case SVFOP_CURRENT_TIME:
					return 2;
				case SVFOP_CURRENT_TIME_N:
					return 3;
				case SVFOP_CURRENT_TIMESTAMP:
					return 4;
				case SVFOP_CURRENT_TIMESTAMP_N:
					return 5;
				case SVFOP_LOCALTIME:
					return 6;
				case SVFOP_LOCALTIME_N:
					return 7;
				case SVFOP_LOCALTIMESTAMP:
					return 8;
				case SVFOP_LOCALTIMESTAMP_N:
					return 9;
				case SVFOP_CURRENT_ROLE:
					return 10;
				case SVFOP_CURRENT_USER:
					return 11;
				case SVFOP_USER:
					return 12;
				case SVFOP_SESSION_USER:
					return 13;
				case SVFOP_CURRENT_CATALOG:
					return 14;
				case SVFOP_CURRENT_SCHEMA:
					return 15;
			}
			break;
		case GE_XML:
			switch ((XmlExprOp) v)
			{
				case IS_XMLCONCAT:
					return 1;
				case IS_XMLELEMENT:
					return 2;
				case IS_XMLFOREST:
					return 3;
				case IS_XMLPARSE:
					return 4;
				case IS_XMLPI:
					return 5;
				case IS_XMLROOT:
					return 6;
				case IS_XMLSERIALIZE:
					return 7;
				case IS_DOCUMENT:
					return 8;
			}
			break;
		case GE_NULLTEST:
			switch ((NullTestType) v)
			{
				case IS_NULL:
					return 1;
				case IS_NOT_NULL:
					return 2;
			}
			break;
		case GE_BOOLTEST:
			switch ((BoolTestType) v)
			{
				case IS_TRUE:
					return 1;
				case IS_NOT_TRUE:
					return 2;
				case IS_FALSE:
					return 3;
				case IS_NOT_FALSE:
					return 4;
				case IS_UNKNOWN:
					return 5;
				case IS_NOT_UNKNOWN:
					return 6;
			}
			break;
		case GE_ONCONFLICT:
			switch ((OnConflictAction) v)
			{
				case ONCONFLICT_NONE:
					return 1;
				case ONCONFLICT_NOTHING:
					return 2;
				case ONCONFLICT_UPDATE:
					return 3;
			}
			break;
		case GE_GROUPINGSET:
			switch ((GroupingSetKind) v)
			{
				case GROUPING_SET_EMPTY:
					return 1;
				case GROUPING_SET_SIMPLE:
					return 2;
				case GROUPING_SET_ROLLUP:
					return 3;
				case GROUPING_SET_CUBE:
					return 4;
				case GROUPING_SET_SETS:
					return 5;
			}
			break;
		case GE_SETOPERATION:
			switch ((SetOperation) v)
			{
				case SETOP_NONE:
					return 1;
				case SETOP_UNION:
					return 2;
				case SETOP_INTERSECT:
					return 3;
				case SETOP_EXCEPT:
					return 4;
			}
			break;
		case GE_CTEMATERIALIZE:
			switch ((CTEMaterialize) v)
			{
				case CTEMaterializeDefault:
					return 1;
				case CTEMaterializeAlways:
					return 2;
				case CTEMaterializeNever:
					return 3;
			}
			break;
		case GE_SCANDIR:
			if (ScanDirectionIsBackward((ScanDirection) v))
				return 1;
			if (ScanDirectionIsForward((ScanDirection) v))
				return 3;
			return 2;			/* no movement */
		case GE_AGGSTRATEGY:
			switch ((AggStrategy) v)
			{
				case AGG_PLAIN:
					return 1;
				case AGG_SORTED:
					return 2;
				case AGG_HASHED:
					return 3;
				case AGG_MIXED:
					return 4;
			}
			break;
		case GE_AGGSPLIT:
			/* a set of flags: guard's own bit for each */
			return 0x10 |
				(DO_AGGSPLIT_COMBINE(v) ? 0x01 : 0) |
				(DO_AGGSPLIT_SKIPFINAL(v) ? 0x02 : 0) |
				(DO_AGGSPLIT_SERIALIZE(v) ? 0x04 : 0) |
				(DO_AGGSPLIT_DESERIALIZE(v) ? 0x08 : 0);
		case GE_SETOPCMD:
			switch ((SetOpCmd) v)
			{
				case SETOPCMD_INTERSECT:
					return 1;
				case SETOPCMD_INTERSECT_ALL:
					return 2;
				case SETOPCMD_EXCEPT:
					return 3;
				case SETOPCMD_EXCEPT_ALL:
					return 4;
			}
			break;
		case GE_SETOPSTRATEGY:
			switch ((SetOpStrategy) v)
			{
				case SETOP_SORTED:
					return 1;
				case SETOP_HASHED:
					return 2;
			}
			break;
	}
	return GUARD_ENUM_UNKNOWN;
}

/*
 * What an enum member contributes: the one way an enum reaches a hash.
 * Rules 1: PostgreSQL's number, as before; rules 2: guard's.  Members
 * numbered below GUARD_ENUM_SLOTS (every member of 15's and 18's enums)
 * are one load from a table built with the tag table.
 */
#define GUARD_ENUM_COUNT	(GE_SETOPSTRATEGY + 1)
#define GUARD_ENUM_SLOTS	32

static uint16 enum_values[GUARD_ENUM_COUNT][GUARD_ENUM_SLOTS];

static void
build_enum_values(void)
{
	int			k;
	int			v;

	for (k = 0; k < GUARD_ENUM_COUNT; k++)
		for (v = 0; v < GUARD_ENUM_SLOTS; v++)
			enum_values[k][v] = guard_fingerprint_rules >= 2 ?
				(uint16) enum_v2((GuardEnum) k, v) : (uint16) v;
}

static inline uint64
enum_value(bool rules2, GuardEnum kind, int v)
{
	if (likely((unsigned int) v < GUARD_ENUM_SLOTS))
		return enum_values[kind][v];
	return rules2 ? enum_v2(kind, v) : (uint64) v;
}

#define ENUMV(rules2, kind, v) enum_value((rules2), (kind), (int) (v))

/* =====================================================================
 * query_hash
 * =====================================================================
 */
#define QJ_MAX_DEPTH 64

typedef struct QueryJumble
{
	uint64		h;
	int			depth;			/* number of entries in rtables */
	List	   *rtables[QJ_MAX_DEPTH];	/* range tables, innermost last */
	bool		has_params;
	int			expr_depth;		/* recursion depth of jumble_node */
	Oid			target_relid;	/* INSERT/UPDATE/MERGE target: resnos are
								 * its attnums, hashed by name */
	int		   *locs;			/* locations of Consts */
	int			nlocs;
	int			maxlocs;
	int		   *locs_buf;		/* the caller's buffer, or NULL */
	bool		saw_andor;		/* an OR with an AND operand (lint.c) */
	bool		rules2;			/* guard.fingerprint_rules >= 2 */
	const uint64 *tags;			/* tag_value() table of the rules */
} QueryJumble;

#define J(v)		(qj->h = mix(qj->h, (uint64) (v)))
#define JTAG(tag)	J(tag_value(qj->tags, (tag)))
#define JENUM(kind, v) J(ENUMV(qj->rules2, (kind), (v)))
#define JOID(cls, oid) \
	do { if (OidIsValid(oid)) J(guard_objname_hash((cls), (oid))); else J(0); } while (0)

static void jumble_query(QueryJumble *qj, Query *query);
static void jumble_node(QueryJumble *qj, Node *node);

/* NULL subtrees are common: test before paying for the call */
#define jumble_expr(qj, node) \
	do { Node *n_ = (Node *) (node); if (n_ != NULL) jumble_node((qj), n_); } while (0)

static void
record_const(QueryJumble *qj, int location)
{
	if (location < 0)
		return;
	if (qj->nlocs >= qj->maxlocs)
	{
		int			newmax = qj->maxlocs ? qj->maxlocs * 2 : 16;

		/* the caller's buffer first: most statements have few constants */
		if (qj->locs == NULL || qj->locs == qj->locs_buf)
		{
			int		   *bigger = palloc(newmax * sizeof(int));

			if (qj->nlocs > 0)
				memcpy(bigger, qj->locs, qj->nlocs * sizeof(int));
			qj->locs = bigger;
		}
		else
			qj->locs = repalloc(qj->locs, newmax * sizeof(int));
		qj->maxlocs = newmax;
	}
	qj->locs[qj->nlocs++] = location;
}

/* Hash of the column a Var points at: by name when it is a table column. */
static void
jumble_var(QueryJumble *qj, Var *var)
{
	int			level = qj->depth - 1 - (int) var->varlevelsup;

	/* the tag's bits and the others do not overlap under rules 1 */
	J(tag_value(qj->tags, T_Var) ^
	  ((uint64) var->varno << 16 | (uint64) var->varlevelsup << 48));

	/*
	 * 18's RETURNING old.a / new.a: only a non-default value counts, by
	 * guard's own number, so every other Var hashes as on 15.
	 */
	if (GuardVarReturningType(var) != 0)
		J(GuardVarReturningType(var) | UINT64CONST(0x5245540000000000));
	if (level >= 0 && level < qj->depth && !IS_SPECIAL_VARNO(var->varno) &&
		var->varno >= 1 && var->varno <= list_length(qj->rtables[level]))
	{
		RangeTblEntry *rte = rt_fetch(var->varno, qj->rtables[level]);

		if (rte->rtekind == RTE_RELATION && var->varattno != 0)
		{
			J(guard_attname_hash(rte->relid, var->varattno));
			return;
		}
	}
	J(var->varattno);
}

#ifdef GUARD_HAVE_RTE_GROUP
/*
 * group_var_expr (rules 2): what a Var stands for when it points at the
 * grouping step's RTE_GROUP entry (18): the grouped expression itself,
 * which is what 15's target list and HAVING hold in its place.  Its Vars
 * are relative to the grouping query; from inside a sublink (varlevelsup
 * > 0) they are shifted as 15's parser writes them.  Any other node is
 * returned as is.
 */
static Node *
group_var_expr(QueryJumble *qj, Var *var)
{
	int			level = qj->depth - 1 - (int) var->varlevelsup;
	RangeTblEntry *rte;
	Node	   *expr;

	if (level < 0 || level >= qj->depth || IS_SPECIAL_VARNO(var->varno) ||
		var->varno < 1 || var->varno > list_length(qj->rtables[level]))
		return (Node *) var;
	rte = rt_fetch(var->varno, qj->rtables[level]);
	if (rte->rtekind != RTE_GROUP || var->varattno < 1 ||
		var->varattno > list_length(rte->groupexprs))
		return (Node *) var;
	expr = (Node *) list_nth(rte->groupexprs, var->varattno - 1);
	if (var->varlevelsup > 0)
	{
		expr = copyObject(expr);
		IncrementVarSublevelsUp(expr, var->varlevelsup, 0);
	}
	return expr;
}
#endif

static void
jumble_rangetable(QueryJumble *qj, List *rtable)
{
	ListCell   *lc;

	foreach(lc, rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		switch (rte->rtekind)
		{
			case RTE_RELATION:
				J(guard_relname_hash(rte->relid) ^ (uint64) rte->inh);
				jumble_expr(qj, (Node *) rte->tablesample);
				break;
			case RTE_SUBQUERY:
				JENUM(GE_RTE, RTE_SUBQUERY);
				jumble_query(qj, rte->subquery);
				break;
			case RTE_JOIN:
				J(ENUMV(qj->rules2, GE_RTE, RTE_JOIN) |
				  ENUMV(qj->rules2, GE_JOIN, rte->jointype) << 8);
				break;
			case RTE_FUNCTION:
				JENUM(GE_RTE, RTE_FUNCTION);
				jumble_expr(qj, (Node *) rte->functions);
				break;
			case RTE_TABLEFUNC:
				JENUM(GE_RTE, RTE_TABLEFUNC);
				jumble_expr(qj, (Node *) rte->tablefunc);
				break;
			case RTE_VALUES:
				JENUM(GE_RTE, RTE_VALUES);
				jumble_expr(qj, (Node *) rte->values_lists);
				break;
			case RTE_CTE:
				JENUM(GE_RTE, RTE_CTE);
				qj->h = mix(qj->h, hash_bytes_extended((const unsigned char *) rte->ctename,
													   strlen(rte->ctename), 0));
				J(rte->ctelevelsup);
				break;
			case RTE_NAMEDTUPLESTORE:
				JENUM(GE_RTE, RTE_NAMEDTUPLESTORE);
				qj->h = mix(qj->h, hash_bytes_extended((const unsigned char *) rte->enrname,
													   strlen(rte->enrname), 0));
				break;
			case RTE_RESULT:
				JENUM(GE_RTE, RTE_RESULT);
				break;
#ifdef GUARD_HAVE_RTE_GROUP
			case RTE_GROUP:

				/*
				 * Rules 2 hash the statement as 15, which has no RTE_GROUP,
				 * does: each grouped expression where a Var of this entry
				 * stands for it (group_var_expr).
				 */
				if (qj->rules2)
					break;

				/*
				 * Rules 1: the grouped expressions here; the target list
				 * and HAVING refer to them by Vars of this entry.
				 */
				J(RTE_GROUP);
				jumble_expr(qj, (Node *) rte->groupexprs);
				break;
#endif
		}
	}
}

static void
jumble_query(QueryJumble *qj, Query *query)
{
	if (query == NULL)
	{
		J(0);
		return;
	}
	if (qj->depth >= QJ_MAX_DEPTH)
	{
		/* absurdly deep nesting: hash what we can without resolving Vars */
		JTAG(T_Query);
		return;
	}
	qj->rtables[qj->depth++] = query->rtable;

	J(tag_value(qj->tags, T_Query) ^
	  (ENUMV(qj->rules2, GE_CMD, query->commandType) << 16 |
	   (uint64) query->resultRelation << 32));
	jumble_rangetable(qj, query->rtable);
	if (qj->rules2 && GuardMergeJoinCondition(query) != NULL &&
		query->jointree != NULL && query->jointree->quals == NULL)
	{
		/*
		 * Since 17 MERGE keeps its join condition apart; 15 has it as the
		 * quals of the join tree.  Rules 2 hash it there, as 15 does.
		 */
		JTAG(T_FromExpr);
		jumble_expr(qj, (Node *) query->jointree->fromlist);
		jumble_expr(qj, GuardMergeJoinCondition(query));
	}
	else
		jumble_expr(qj, (Node *) query->jointree);
	{
		/* target columns of INSERT/UPDATE/MERGE count by name */
		Oid			saved_target = qj->target_relid;

		qj->target_relid = InvalidOid;
		if (query->resultRelation > 0 &&
			(query->commandType == CMD_INSERT || query->commandType == CMD_UPDATE ||
			 query->commandType == CMD_MERGE))
		{
			RangeTblEntry *rte = rt_fetch(query->resultRelation, query->rtable);

			if (rte->rtekind == RTE_RELATION)
				qj->target_relid = rte->relid;
		}
		jumble_expr(qj, (Node *) query->targetList);
		jumble_expr(qj, (Node *) query->onConflict);
		jumble_expr(qj, (Node *) query->mergeActionList);
		qj->target_relid = saved_target;
	}
	jumble_expr(qj, (Node *) query->returningList);
	jumble_expr(qj, (Node *) query->groupClause);
	jumble_expr(qj, (Node *) query->groupingSets);
	jumble_expr(qj, query->havingQual);
	jumble_expr(qj, (Node *) query->windowClause);
	jumble_expr(qj, (Node *) query->distinctClause);
	jumble_expr(qj, (Node *) query->sortClause);
	jumble_expr(qj, query->limitOffset);
	jumble_expr(qj, query->limitCount);
	J(ENUMV(qj->rules2, GE_LIMIT, query->limitOption) |
	  (uint64) query->groupDistinct << 8 | 0x4c494d00);
	{
		ListCell   *lc;

		foreach(lc, query->rowMarks)
		{
			RowMarkClause *rowmark = lfirst_node(RowMarkClause, lc);

			if (!rowmark->pushedDown)
			{
				J(rowmark->rti);
				JENUM(GE_LOCKSTRENGTH, rowmark->strength);
				JENUM(GE_LOCKWAIT, rowmark->waitPolicy);
			}
		}
	}
	jumble_expr(qj, query->setOperations);
	jumble_expr(qj, (Node *) query->cteList);

	qj->depth--;
}

/*
 * jumble_node: hash an expression tree (never NULL: see jumble_expr).  Node types not listed hash as
 * their tag only, which is safe (equal trees still hash equal) if coarse.
 */
static void
jumble_node(QueryJumble *qj, Node *node)
{
	ListCell   *lc;

#ifdef GUARD_HAVE_RTE_GROUP
	if (qj->rules2 && IsA(node, Var))
		node = group_var_expr(qj, (Var *) node);
#endif

	/* deep expressions (a + a + ...) recurse: check the stack every 8 levels */
	if ((++qj->expr_depth & 7) == 0)
		check_stack_depth();

	JTAG(nodeTag(node));
	switch (nodeTag(node))
	{
		case T_Var:
			jumble_var(qj, (Var *) node);
			break;
		case T_Const:
			{
				Const	   *c = (Const *) node;

				/* the value never counts; remember where it was written */
				JOID(TypeRelationId, c->consttype);
				record_const(qj, c->location);
			}
			break;
		case T_Param:
			{
				Param	   *p = (Param *) node;

				JENUM(GE_PARAM, p->paramkind);
				J(p->paramid);
				JOID(TypeRelationId, p->paramtype);
				if (p->paramkind == PARAM_EXTERN)
					qj->has_params = true;
			}
			break;
		case T_Aggref:
			{
				Aggref	   *expr = (Aggref *) node;

				JOID(ProcedureRelationId, expr->aggfnoid);
				jumble_expr(qj, (Node *) expr->aggdirectargs);
				jumble_expr(qj, (Node *) expr->args);
				jumble_expr(qj, (Node *) expr->aggorder);
				jumble_expr(qj, (Node *) expr->aggdistinct);
				jumble_expr(qj, (Node *) expr->aggfilter);
			}
			break;
		case T_GroupingFunc:
			jumble_expr(qj, (Node *) ((GroupingFunc *) node)->refs);
			break;
		case T_WindowFunc:
			{
				WindowFunc *expr = (WindowFunc *) node;

				JOID(ProcedureRelationId, expr->winfnoid);
				J(expr->winref);
				jumble_expr(qj, (Node *) expr->args);
				jumble_expr(qj, (Node *) expr->aggfilter);
			}
			break;
		case T_SubscriptingRef:
			{
				SubscriptingRef *sbsref = (SubscriptingRef *) node;

				jumble_expr(qj, (Node *) sbsref->refupperindexpr);
				jumble_expr(qj, (Node *) sbsref->reflowerindexpr);
				jumble_expr(qj, (Node *) sbsref->refexpr);
				jumble_expr(qj, (Node *) sbsref->refassgnexpr);
			}
			break;
		case T_FuncExpr:
			JOID(ProcedureRelationId, ((FuncExpr *) node)->funcid);
			jumble_expr(qj, (Node *) ((FuncExpr *) node)->args);
			break;
		case T_NamedArgExpr:
			J(((NamedArgExpr *) node)->argnumber);
			jumble_expr(qj, (Node *) ((NamedArgExpr *) node)->arg);
			break;
		case T_OpExpr:
		case T_DistinctExpr:	/* struct-equivalent to OpExpr */
		case T_NullIfExpr:		/* struct-equivalent to OpExpr */
			JOID(OperatorRelationId, ((OpExpr *) node)->opno);
			jumble_expr(qj, (Node *) ((OpExpr *) node)->args);
			break;
		case T_ScalarArrayOpExpr:
			JOID(OperatorRelationId, ((ScalarArrayOpExpr *) node)->opno);
			J(((ScalarArrayOpExpr *) node)->useOr);
			jumble_expr(qj, (Node *) ((ScalarArrayOpExpr *) node)->args);
			break;
		case T_BoolExpr:
			JENUM(GE_BOOLEXPR, ((BoolExpr *) node)->boolop);
			if (((BoolExpr *) node)->boolop == OR_EXPR && !qj->saw_andor)
			{
				foreach(lc, ((BoolExpr *) node)->args)
					if (IsA(lfirst(lc), BoolExpr) &&
						((BoolExpr *) lfirst(lc))->boolop == AND_EXPR)
						qj->saw_andor = true;
			}
			jumble_expr(qj, (Node *) ((BoolExpr *) node)->args);
			break;
		case T_SubLink:
			{
				SubLink    *sublink = (SubLink *) node;

				JENUM(GE_SUBLINK, sublink->subLinkType);
				J(sublink->subLinkId);
				jumble_expr(qj, (Node *) sublink->testexpr);
				jumble_query(qj, castNode(Query, sublink->subselect));
			}
			break;
		case T_FieldSelect:
			J(((FieldSelect *) node)->fieldnum);
			jumble_expr(qj, (Node *) ((FieldSelect *) node)->arg);
			break;
		case T_FieldStore:
			jumble_expr(qj, (Node *) ((FieldStore *) node)->arg);
			jumble_expr(qj, (Node *) ((FieldStore *) node)->newvals);
			break;
		case T_RelabelType:
			JOID(TypeRelationId, ((RelabelType *) node)->resulttype);
			jumble_expr(qj, (Node *) ((RelabelType *) node)->arg);
			break;
		case T_CoerceViaIO:
			JOID(TypeRelationId, ((CoerceViaIO *) node)->resulttype);
			jumble_expr(qj, (Node *) ((CoerceViaIO *) node)->arg);
			break;
		case T_ArrayCoerceExpr:
			JOID(TypeRelationId, ((ArrayCoerceExpr *) node)->resulttype);
			jumble_expr(qj, (Node *) ((ArrayCoerceExpr *) node)->arg);
			jumble_expr(qj, (Node *) ((ArrayCoerceExpr *) node)->elemexpr);
			break;
		case T_ConvertRowtypeExpr:
			JOID(TypeRelationId, ((ConvertRowtypeExpr *) node)->resulttype);
			jumble_expr(qj, (Node *) ((ConvertRowtypeExpr *) node)->arg);
			break;
		case T_CollateExpr:
			JOID(CollationRelationId, ((CollateExpr *) node)->collOid);
			jumble_expr(qj, (Node *) ((CollateExpr *) node)->arg);
			break;
		case T_CaseExpr:
			{
				CaseExpr   *caseexpr = (CaseExpr *) node;

				jumble_expr(qj, (Node *) caseexpr->arg);
				foreach(lc, caseexpr->args)
				{
					CaseWhen   *when = lfirst_node(CaseWhen, lc);

					jumble_expr(qj, (Node *) when->expr);
					jumble_expr(qj, (Node *) when->result);
				}
				jumble_expr(qj, (Node *) caseexpr->defresult);
			}
			break;
		case T_CaseTestExpr:
			JOID(TypeRelationId, ((CaseTestExpr *) node)->typeId);
			break;
		case T_ArrayExpr:
			jumble_expr(qj, (Node *) ((ArrayExpr *) node)->elements);
			break;
		case T_RowExpr:
			jumble_expr(qj, (Node *) ((RowExpr *) node)->args);
			break;
		case T_RowCompareExpr:
			JENUM(GE_ROWCOMPARE, GuardRowCompareType((RowCompareExpr *) node));
			jumble_expr(qj, (Node *) ((RowCompareExpr *) node)->largs);
			jumble_expr(qj, (Node *) ((RowCompareExpr *) node)->rargs);
			break;
		case T_CoalesceExpr:
			jumble_expr(qj, (Node *) ((CoalesceExpr *) node)->args);
			break;
		case T_MinMaxExpr:
			JENUM(GE_MINMAX, ((MinMaxExpr *) node)->op);
			jumble_expr(qj, (Node *) ((MinMaxExpr *) node)->args);
			break;
		case T_SQLValueFunction:
			JENUM(GE_SVF, ((SQLValueFunction *) node)->op);
			J(((SQLValueFunction *) node)->typmod);
			break;
		case T_XmlExpr:
			JENUM(GE_XML, ((XmlExpr *) node)->op);
			jumble_expr(qj, (Node *) ((XmlExpr *) node)->named_args);
			jumble_expr(qj, (Node *) ((XmlExpr *) node)->args);
			break;
		case T_NullTest:
			JENUM(GE_NULLTEST, ((NullTest *) node)->nulltesttype);
			jumble_expr(qj, (Node *) ((NullTest *) node)->arg);
			break;
		case T_BooleanTest:
			JENUM(GE_BOOLTEST, ((BooleanTest *) node)->booltesttype);
			jumble_expr(qj, (Node *) ((BooleanTest *) node)->arg);
			break;
		case T_CoerceToDomain:
			JOID(TypeRelationId, ((CoerceToDomain *) node)->resulttype);
			jumble_expr(qj, (Node *) ((CoerceToDomain *) node)->arg);
			break;
		case T_CoerceToDomainValue:
			JOID(TypeRelationId, ((CoerceToDomainValue *) node)->typeId);
			break;
		case T_SetToDefault:
			JOID(TypeRelationId, ((SetToDefault *) node)->typeId);
			break;
		case T_CurrentOfExpr:
			J(((CurrentOfExpr *) node)->cvarno);
			if (((CurrentOfExpr *) node)->cursor_name)
				qj->h = mix(qj->h, hash_bytes_extended((const unsigned char *) ((CurrentOfExpr *) node)->cursor_name,
													   strlen(((CurrentOfExpr *) node)->cursor_name), 0));
			J(((CurrentOfExpr *) node)->cursor_param);
			break;
		case T_NextValueExpr:
			J(guard_relname_hash(((NextValueExpr *) node)->seqid));
			JOID(TypeRelationId, ((NextValueExpr *) node)->typeId);
			break;
		case T_InferenceElem:
			JOID(CollationRelationId, ((InferenceElem *) node)->infercollid);
			JOID(OperatorClassRelationId, ((InferenceElem *) node)->inferopclass);
			jumble_expr(qj, ((InferenceElem *) node)->expr);
			break;
		case T_TargetEntry:
			{
				TargetEntry *tle = (TargetEntry *) node;

				/* a DML target column counts by name, never by attnum */
				if (OidIsValid(qj->target_relid) && !tle->resjunk)
					J(guard_attname_hash(qj->target_relid, tle->resno) ^
					  (uint64) tle->ressortgroupref << 16);
				else
					J((uint64) tle->resno | (uint64) tle->ressortgroupref << 16 |
					  (uint64) tle->resjunk << 48);
				jumble_expr(qj, (Node *) tle->expr);
			}
			break;
		case T_RangeTblRef:
			qj->h ^= ((RangeTblRef *) node)->rtindex;	/* tag already mixed */
			break;
		case T_JoinExpr:
			{
				JoinExpr   *join = (JoinExpr *) node;

				JENUM(GE_JOIN, join->jointype);
				J(join->isNatural);
				J(join->rtindex);
				jumble_expr(qj, join->larg);
				jumble_expr(qj, join->rarg);
				jumble_expr(qj, join->quals);
			}
			break;
		case T_FromExpr:
			jumble_expr(qj, (Node *) ((FromExpr *) node)->fromlist);
			jumble_expr(qj, ((FromExpr *) node)->quals);
			break;
		case T_OnConflictExpr:
			{
				OnConflictExpr *conf = (OnConflictExpr *) node;

				JENUM(GE_ONCONFLICT, conf->action);
				jumble_expr(qj, (Node *) conf->arbiterElems);
				jumble_expr(qj, conf->arbiterWhere);
				jumble_expr(qj, (Node *) conf->onConflictSet);
				jumble_expr(qj, conf->onConflictWhere);
				J(conf->exclRelIndex);
				jumble_expr(qj, (Node *) conf->exclRelTlist);
			}
			break;
		case T_MergeAction:
			J(GuardMergeActionMatched((MergeAction *) node));
			JENUM(GE_CMD, ((MergeAction *) node)->commandType);
			jumble_expr(qj, ((MergeAction *) node)->qual);
			jumble_expr(qj, (Node *) ((MergeAction *) node)->targetList);
			break;
		case T_List:
			foreach(lc, (List *) node)
				jumble_expr(qj, (Node *) lfirst(lc));
			break;
		case T_IntList:
			foreach(lc, (List *) node)
				J(lfirst_int(lc));
			break;
		case T_SortGroupClause:
			J(((SortGroupClause *) node)->tleSortGroupRef);
			JOID(OperatorRelationId, ((SortGroupClause *) node)->eqop);
			JOID(OperatorRelationId, ((SortGroupClause *) node)->sortop);
			J(((SortGroupClause *) node)->nulls_first);
			break;
		case T_GroupingSet:
			JENUM(GE_GROUPINGSET, ((GroupingSet *) node)->kind);
			jumble_expr(qj, (Node *) ((GroupingSet *) node)->content);
			break;
		case T_WindowClause:
			{
				WindowClause *wc = (WindowClause *) node;

				J(wc->winref);
				J(wc->frameOptions);
				jumble_expr(qj, (Node *) wc->partitionClause);
				jumble_expr(qj, (Node *) wc->orderClause);
				jumble_expr(qj, wc->startOffset);
				jumble_expr(qj, wc->endOffset);
			}
			break;
		case T_CommonTableExpr:
			{
				CommonTableExpr *cte = (CommonTableExpr *) node;

				qj->h = mix(qj->h, hash_bytes_extended((const unsigned char *) cte->ctename,
													   strlen(cte->ctename), 0));
				JENUM(GE_CTEMATERIALIZE, cte->ctematerialized);
				jumble_query(qj, castNode(Query, cte->ctequery));
			}
			break;
		case T_SetOperationStmt:
			JENUM(GE_SETOPERATION, ((SetOperationStmt *) node)->op);
			J(((SetOperationStmt *) node)->all);
			jumble_expr(qj, ((SetOperationStmt *) node)->larg);
			jumble_expr(qj, ((SetOperationStmt *) node)->rarg);
			break;
		case T_RangeTblFunction:
			jumble_expr(qj, ((RangeTblFunction *) node)->funcexpr);
			break;
		case T_TableFunc:
			jumble_expr(qj, ((TableFunc *) node)->docexpr);
			jumble_expr(qj, ((TableFunc *) node)->rowexpr);
			jumble_expr(qj, (Node *) ((TableFunc *) node)->colexprs);
			break;
		case T_TableSampleClause:
			JOID(ProcedureRelationId, ((TableSampleClause *) node)->tsmhandler);
			jumble_expr(qj, (Node *) ((TableSampleClause *) node)->args);
			jumble_expr(qj, (Node *) ((TableSampleClause *) node)->repeatable);
			break;
		default:
			/* hash the tag only (done above) */
			break;
	}
	qj->expr_depth--;
}

/*
 * guard_query_hash: portable hash of a statement.
 *
 * Sets *has_params when the statement has $n parameters, and returns the
 * source locations of its constants (palloc'd, unsorted) for normalization.
 * Sets *maybe_andor when an OR has an AND operand: only then can the
 * lost-parentheses lint (lint.c) find anything.
 */
uint64
guard_query_hash(Query *query, bool *has_params, int **const_locations,
				 int *nconsts, bool *maybe_andor, int *locs_buf, int locs_buf_size)
{
	QueryJumble qj;

	/* not memset: rtables[] is only read below depth */
	qj.h = GUARD_FINGERPRINT_VERSION;
	qj.depth = 0;
	qj.expr_depth = 0;
	qj.has_params = false;
	qj.target_relid = InvalidOid;
	qj.locs = locs_buf;
	qj.locs_buf = locs_buf;
	qj.nlocs = 0;
	qj.maxlocs = locs_buf ? locs_buf_size : 0;
	qj.saw_andor = false;
	qj.tags = select_rules();
	qj.rules2 = guard_fingerprint_rules >= 2;
	jumble_query(&qj, query);
	*has_params = qj.has_params;
	*maybe_andor = qj.saw_andor;
	*const_locations = qj.locs;
	*nconsts = qj.nlocs;
	return finish(qj.h);
}

/* =====================================================================
 * plan_hash, plan shape, seq-scanned relations
 * =====================================================================
 */
typedef struct PlanWalk
{
	PlannedStmt *pstmt;
	Index	   *parent_of;		/* RT index -> topmost appendrel parent */
	int			nrte;
	StringInfo	shape;			/* NULL when not building the shape */
	StringInfo	detail;			/* scratch for one node's shape line */
	List	   *seqscan_relids; /* Oids of seq-scanned (normalized) rels */
	List	   *seqscan_rtis;	/* RT indexes actually scanned */
	bool		rules2;			/* guard.fingerprint_rules >= 2 */
	const uint64 *tags;			/* tag_value() table of the rules */
} PlanWalk;

#define PENUM(kind, v) ENUMV(pw->rules2, (kind), (v))

static uint64 walk_plan(PlanWalk *pw, Plan *plan, int indent);

static void
build_parent_map(PlanWalk *pw)
{
	ListCell   *lc;
	int			i;

	pw->nrte = list_length(pw->pstmt->rtable);
	if (pw->pstmt->appendRelations == NIL)
		return;
	pw->parent_of = palloc0((pw->nrte + 1) * sizeof(Index));
	foreach(lc, pw->pstmt->appendRelations)
	{
		AppendRelInfo *ai = lfirst_node(AppendRelInfo, lc);

		if (ai->child_relid <= (Index) pw->nrte)
			pw->parent_of[ai->child_relid] = ai->parent_relid;
	}
	/* collapse chains so each child points at its topmost relation parent */
	for (i = 1; i <= pw->nrte; i++)
	{
		Index		top = i;
		int			guard_steps = 0;

		while (pw->parent_of[top] != 0 && guard_steps++ < pw->nrte)
		{
			RangeTblEntry *prte = rt_fetch(pw->parent_of[top], pw->pstmt->rtable);

			if (prte->rtekind != RTE_RELATION)
				break;
			top = pw->parent_of[top];
		}
		pw->parent_of[i] = (top == (Index) i) ? 0 : top;
	}
}

/* The relation a scan of RT index rti stands for; *is_child if normalized. */
static Oid
scan_relid(PlanWalk *pw, Index rti, bool *is_child)
{
	RangeTblEntry *rte;

	*is_child = false;
	if (rti < 1 || rti > (Index) pw->nrte)
		return InvalidOid;
	if (pw->parent_of && pw->parent_of[rti] != 0)
	{
		*is_child = true;
		rti = pw->parent_of[rti];
	}
	rte = rt_fetch(rti, pw->pstmt->rtable);
	return rte->rtekind == RTE_RELATION ? rte->relid : InvalidOid;
}

static const char *
node_name(Plan *plan)
{
	switch (nodeTag(plan))
	{
		case T_Result:
			return "Result";
		case T_ProjectSet:
			return "ProjectSet";
		case T_ModifyTable:
			switch (((ModifyTable *) plan)->operation)
			{
				case CMD_INSERT:
					return "Insert";
				case CMD_UPDATE:
					return "Update";
				case CMD_DELETE:
					return "Delete";
				case CMD_MERGE:
					return "Merge";
				default:
					return "ModifyTable";
			}
		case T_Append:
			return "Append";
		case T_MergeAppend:
			return "Merge Append";
		case T_RecursiveUnion:
			return "Recursive Union";
		case T_BitmapAnd:
			return "BitmapAnd";
		case T_BitmapOr:
			return "BitmapOr";
		case T_NestLoop:
			return "Nested Loop";
		case T_MergeJoin:
			return "Merge Join";
		case T_HashJoin:
			return "Hash Join";
		case T_SeqScan:
			return "Seq Scan";
		case T_SampleScan:
			return "Sample Scan";
		case T_Gather:
			return "Gather";
		case T_GatherMerge:
			return "Gather Merge";
		case T_IndexScan:
			return "Index Scan";
		case T_IndexOnlyScan:
			return "Index Only Scan";
		case T_BitmapIndexScan:
			return "Bitmap Index Scan";
		case T_BitmapHeapScan:
			return "Bitmap Heap Scan";
		case T_TidScan:
			return "Tid Scan";
		case T_TidRangeScan:
			return "Tid Range Scan";
		case T_SubqueryScan:
			return "Subquery Scan";
		case T_FunctionScan:
			return "Function Scan";
		case T_TableFuncScan:
			return "Table Function Scan";
		case T_ValuesScan:
			return "Values Scan";
		case T_CteScan:
			return "CTE Scan";
		case T_NamedTuplestoreScan:
			return "Named Tuplestore Scan";
		case T_WorkTableScan:
			return "WorkTable Scan";
		case T_ForeignScan:
			return "Foreign Scan";
		case T_CustomScan:
			return "Custom Scan";
		case T_Material:
			return "Materialize";
		case T_Memoize:
			return "Memoize";
		case T_Sort:
			return "Sort";
		case T_IncrementalSort:
			return "Incremental Sort";
		case T_Group:
			return "Group";
		case T_Agg:
			switch (((Agg *) plan)->aggstrategy)
			{
				case AGG_PLAIN:
					return "Aggregate";
				case AGG_SORTED:
					return "GroupAggregate";
				case AGG_HASHED:
					return "HashAggregate";
				case AGG_MIXED:
					return "MixedAggregate";
			}
			return "Aggregate";
		case T_WindowAgg:
			return "WindowAgg";
		case T_Unique:
			return "Unique";
		case T_SetOp:
			return ((SetOp *) plan)->strategy == SETOP_HASHED ? "HashSetOp" : "SetOp";
		case T_LockRows:
			return "LockRows";
		case T_Limit:
			return "Limit";
		case T_Hash:
			return "Hash";
		default:
			return "Unknown";
	}
}

static const char *
join_type_name(JoinType jt)
{
	switch (jt)
	{
		case JOIN_INNER:
			return "";
		case JOIN_LEFT:
			return " Left";
		case JOIN_FULL:
			return " Full";
		case JOIN_RIGHT:
			return " Right";
		case JOIN_SEMI:
			return " Semi";
		case JOIN_ANTI:
			return " Anti";
		default:
			return " ?";
	}
}

static void
shape_line(PlanWalk *pw, int indent, Plan *plan, const char *detail)
{
	const char *name = node_name(plan);

	if (pw->shape == NULL)
		return;
	appendStringInfoSpaces(pw->shape, indent * 2);
	if (plan->parallel_aware)
		appendStringInfoString(pw->shape, "Parallel ");
	if (IsA(plan, Agg) && DO_AGGSPLIT_SKIPFINAL(((Agg *) plan)->aggsplit))
		appendStringInfoString(pw->shape, "Partial ");
	else if (IsA(plan, Agg) && DO_AGGSPLIT_COMBINE(((Agg *) plan)->aggsplit))
		appendStringInfoString(pw->shape, "Finalize ");

	if (IsA(plan, NestLoop) || IsA(plan, MergeJoin) || IsA(plan, HashJoin))
	{
		JoinType	jt = ((Join *) plan)->jointype;

		if (IsA(plan, NestLoop))
			appendStringInfo(pw->shape, "Nested Loop%s", join_type_name(jt));
		else
			appendStringInfo(pw->shape, "%s%s Join",
							 IsA(plan, MergeJoin) ? "Merge" : "Hash",
							 join_type_name(jt));
	}
	else
		appendStringInfoString(pw->shape, name);
	if (detail)
		appendStringInfo(pw->shape, " %s", detail);
	appendStringInfoChar(pw->shape, '\n');
}

static int
cmp_uint64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * Hash the children of an Append-like node as a set: sorted, duplicates
 * dropped.  The shape shows each distinct child once, in hash order.
 */
static uint64
walk_child_set(PlanWalk *pw, uint64 h, List *children, int indent)
{
	int			n = list_length(children);
	uint64	   *hashes;
	StringInfo	saved = pw->shape;
	char	  **texts = NULL;
	int		   *order;
	int			i,
				j;
	ListCell   *lc;

	if (n == 0)
		return mix(h, 0);

	hashes = palloc(n * sizeof(uint64));
	order = palloc(n * sizeof(int));
	if (saved)
		texts = palloc(n * sizeof(char *));

	i = 0;
	foreach(lc, children)
	{
		if (saved)
		{
			pw->shape = makeStringInfo();
			hashes[i] = walk_plan(pw, (Plan *) lfirst(lc), indent);
			texts[i] = pw->shape->data;
		}
		else
			hashes[i] = walk_plan(pw, (Plan *) lfirst(lc), indent);
		i++;
	}
	pw->shape = saved;

	/* selection of distinct hashes in ascending order (n is small) */
	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = 1; i < n; i++)
	{
		int			k = order[i];

		for (j = i - 1; j >= 0 && cmp_uint64(&hashes[order[j]], &hashes[k]) > 0; j--)
			order[j + 1] = order[j];
		order[j + 1] = k;
	}
	for (i = 0; i < n; i++)
	{
		if (i > 0 && hashes[order[i]] == hashes[order[i - 1]])
			continue;
		h = mix(h, hashes[order[i]]);
		if (saved)
			appendStringInfoString(saved, texts[order[i]]);
	}
	return h;
}

/* Hash of an index, portable; under a partitioned parent, by key columns. */
static uint64
index_hash(Oid indexid, bool is_child, StringInfo detail)
{
	if (!is_child)
	{
		if (detail)
			appendStringInfo(detail, "using %s", guard_relname_text(indexid));
		return guard_relname_hash(indexid);
	}
	else
	{
		/* partitions' indexes have names of their own: use the key instead */
		Relation	irel = RelationIdGetRelation(indexid);
		uint64		h = 0x494458;
		int			k;

		if (!RelationIsValid(irel))
			return h;
		if (detail)
			appendStringInfoString(detail, "using (");
		for (k = 0; k < irel->rd_index->indnkeyatts; k++)
		{
			AttrNumber	attnum = irel->rd_index->indkey.values[k];

			h = mix(h, guard_attname_hash(irel->rd_index->indrelid, attnum));
			if (detail)
			{
				char	   *att = attnum > 0 ? get_attname(irel->rd_index->indrelid, attnum, true) : NULL;

				appendStringInfo(detail, "%s%s", k > 0 ? ", " : "",
								 att ? guard_name_text(quote_identifier(att)) : "expr");
			}
		}
		h = mix(h, irel->rd_rel->relam);
		if (detail)
			appendStringInfoChar(detail, ')');
		RelationClose(irel);
		return h;
	}
}

/* Hash (and describe) the relation a scan node reads. */
static uint64
scan_hash(PlanWalk *pw, uint64 h, Index scanrelid, StringInfo detail,
		  bool *is_child, Oid *relid_out)
{
	Oid			relid = scan_relid(pw, scanrelid, is_child);

	*relid_out = relid;
	if (!OidIsValid(relid))
		return mix(h, 0);
	h = mix(h, guard_relname_hash(relid));
	h = mix(h, *is_child);
	if (detail)
	{
		if (detail->len > 0)
			appendStringInfoChar(detail, ' ');
		appendStringInfo(detail, "on %s%s", guard_relname_text(relid),
						 *is_child ? " (partition)" : "");
	}
	return h;
}

/*
 * walk_plan: hash one plan node and its subtree; append its shape lines
 * when pw->shape is set; collect seq-scanned relations.
 */
static uint64
walk_plan(PlanWalk *pw, Plan *plan, int indent)
{
	uint64		h;
	StringInfo	detail = pw->detail;	/* NULL when hashing only */
	bool		is_child = false;
	Oid			relid = InvalidOid;
	List	   *children = NIL;

	if (plan == NULL)
		return 0;

	check_stack_depth();

	if (detail)
		resetStringInfo(detail);	/* used up before the children run */

	h = mix(0x504c4e, tag_value(pw->tags, nodeTag(plan)));
	h = mix(h, plan->parallel_aware);

	switch (nodeTag(plan))
	{
		case T_SeqScan:
		case T_SampleScan:
		case T_BitmapHeapScan:
		case T_TidScan:
		case T_TidRangeScan:
			h = scan_hash(pw, h, ((Scan *) plan)->scanrelid, detail, &is_child, &relid);
			/* TABLESAMPLE SYSTEM (100) reads it all: a sample is a seq scan */
			if ((IsA(plan, SeqScan) || IsA(plan, SampleScan)) && OidIsValid(relid))
			{
				pw->seqscan_relids = lappend_oid(pw->seqscan_relids, relid);
				pw->seqscan_rtis = lappend_int(pw->seqscan_rtis, ((Scan *) plan)->scanrelid);
			}
			break;
		case T_IndexScan:
		case T_IndexOnlyScan:
			{
				Oid			indexid = IsA(plan, IndexScan) ?
				((IndexScan *) plan)->indexid : ((IndexOnlyScan *) plan)->indexid;
				ScanDirection dir = IsA(plan, IndexScan) ?
				((IndexScan *) plan)->indexorderdir : ((IndexOnlyScan *) plan)->indexorderdir;

				(void) scan_relid(pw, ((Scan *) plan)->scanrelid, &is_child);
				if (detail && ScanDirectionIsBackward(dir))
					appendStringInfoString(detail, "Backward ");
				h = mix(h, index_hash(indexid, is_child, detail));
				h = mix(h, PENUM(GE_SCANDIR, dir));
				h = scan_hash(pw, h, ((Scan *) plan)->scanrelid, detail, &is_child, &relid);
			}
			break;
		case T_BitmapIndexScan:
			(void) scan_relid(pw, ((Scan *) plan)->scanrelid, &is_child);
			h = mix(h, index_hash(((BitmapIndexScan *) plan)->indexid, is_child, detail));
			break;
		case T_ForeignScan:
			h = mix(h, PENUM(GE_CMD, ((ForeignScan *) plan)->operation));
			if (((Scan *) plan)->scanrelid > 0)
				h = scan_hash(pw, h, ((Scan *) plan)->scanrelid, detail, &is_child, &relid);
			break;
		case T_CustomScan:
			{
				const char *cname = ((CustomScan *) plan)->methods->CustomName;

				h = mix(h, hash_bytes_extended((const unsigned char *) cname, strlen(cname), 0));
				if (detail)
					appendStringInfo(detail, "(%s)", cname);
				if (((Scan *) plan)->scanrelid > 0)
					h = scan_hash(pw, h, ((Scan *) plan)->scanrelid, detail, &is_child, &relid);
				children = ((CustomScan *) plan)->custom_plans;
			}
			break;
		case T_SubqueryScan:
			children = list_make1(((SubqueryScan *) plan)->subplan);
			break;
		case T_NestLoop:
		case T_MergeJoin:
		case T_HashJoin:
			h = mix(h, PENUM(GE_JOIN, ((Join *) plan)->jointype));
			break;
		case T_Agg:
			h = mix(h, PENUM(GE_AGGSTRATEGY, ((Agg *) plan)->aggstrategy));
			h = mix(h, PENUM(GE_AGGSPLIT, ((Agg *) plan)->aggsplit));
			break;
		case T_SetOp:
			h = mix(h, PENUM(GE_SETOPCMD, ((SetOp *) plan)->cmd));
			h = mix(h, PENUM(GE_SETOPSTRATEGY, ((SetOp *) plan)->strategy));
			break;
		case T_ModifyTable:
			{
				ModifyTable *mt = (ModifyTable *) plan;
				ListCell   *lc;

				h = mix(h, PENUM(GE_CMD, mt->operation));
				h = mix(h, PENUM(GE_ONCONFLICT, mt->onConflictAction));
				foreach(lc, mt->resultRelations)
				{
					bool		child;
					Oid			rel = scan_relid(pw, lfirst_int(lc), &child);

					/* partitions of one target count once, as the parent */
					if (!child || lc == list_head(mt->resultRelations))
					{
						h = mix(h, OidIsValid(rel) ? guard_relname_hash(rel) : 0);
						if (detail && OidIsValid(rel))
							appendStringInfo(detail, "%s%s",
											 detail->len ? ", " : "on ",
											 guard_relname_text(rel));
					}
				}
			}
			break;
		default:
			break;
	}

	shape_line(pw, indent, plan, (detail && detail->len) ? detail->data : NULL);

	/* children: the Append family as a set, the others in order */
	switch (nodeTag(plan))
	{
		case T_Append:
			h = walk_child_set(pw, h, ((Append *) plan)->appendplans, indent + 1);
			break;
		case T_MergeAppend:
			h = walk_child_set(pw, h, ((MergeAppend *) plan)->mergeplans, indent + 1);
			break;
		case T_BitmapAnd:
			h = walk_child_set(pw, h, ((BitmapAnd *) plan)->bitmapplans, indent + 1);
			break;
		case T_BitmapOr:
			h = walk_child_set(pw, h, ((BitmapOr *) plan)->bitmapplans, indent + 1);
			break;
		default:
			{
				ListCell   *lc;

				h = mix(h, walk_plan(pw, plan->lefttree, indent + 1));
				h = mix(h, walk_plan(pw, plan->righttree, indent + 1));
				foreach(lc, children)
					h = mix(h, walk_plan(pw, (Plan *) lfirst(lc), indent + 1));
			}
			break;
	}

	return h;
}

static uint64
walk_statement(PlanWalk *pw)
{
	PlannedStmt *pstmt = pw->pstmt;
	uint64		h;
	ListCell   *lc;
	int			plan_id = 1;

	pw->tags = select_rules();
	pw->rules2 = guard_fingerprint_rules >= 2;
	h = mix(GUARD_FINGERPRINT_VERSION, PENUM(GE_CMD, pstmt->commandType));

	build_parent_map(pw);
	h = mix(h, walk_plan(pw, pstmt->planTree, 0));
	foreach(lc, pstmt->subplans)
	{
		Plan	   *sub = (Plan *) lfirst(lc);

		if (sub != NULL)
		{
			if (pw->shape)
				appendStringInfo(pw->shape, "SubPlan %d\n", plan_id);
			h = mix(h, plan_id);
			h = mix(h, walk_plan(pw, sub, 1));
		}
		plan_id++;
	}
	return finish(h);
}

/*
 * guard_plan_hash: portable hash of a plan's structure.  If seqscanned is
 * not NULL, it is set to the OIDs of the relations (partitions themselves,
 * not their parents) the plan reads by sequential scan.
 */
uint64
guard_plan_hash(PlannedStmt *pstmt, List **seqscanned)
{
	PlanWalk	pw;
	uint64		h;
	ListCell   *lc;

	memset(&pw, 0, sizeof(pw));
	pw.pstmt = pstmt;
	h = walk_statement(&pw);
	if (seqscanned)
	{
		*seqscanned = NIL;
		foreach(lc, pw.seqscan_rtis)
			*seqscanned = lappend_oid(*seqscanned,
									  rt_fetch(lfirst_int(lc), pstmt->rtable)->relid);
	}
	return h;
}

/* guard_plan_shape: the plan as text, one node per line, no costs. */
char *
guard_plan_shape(PlannedStmt *pstmt)
{
	PlanWalk	pw;

	memset(&pw, 0, sizeof(pw));
	pw.pstmt = pstmt;
	pw.shape = makeStringInfo();
	pw.detail = makeStringInfo();
	(void) walk_statement(&pw);
	/* drop the final newline */
	if (pw.shape->len > 0 && pw.shape->data[pw.shape->len - 1] == '\n')
		pw.shape->data[--pw.shape->len] = '\0';
	return pw.shape->data;
}

/*
 * guard_plan_seqscans: the distinct relations the plan reads by Seq Scan or
 * Parallel Seq Scan (partitions as their parent), with the planner's row
 * estimate of each whole relation (sizes collected while planning; for a
 * parent, the sum over its scanned partitions).  Sorted by name.
 */
int
guard_plan_seqscans(PlannedStmt *pstmt, const GuardRelSize *sizes, int nsizes,
					GuardSeqScan **result)
{
	PlanWalk	pw;
	ListCell   *lc1,
			   *lc2;
	GuardSeqScan *out;
	int			n = 0;
	int			i;
	List	   *seen_relids = NIL;

	memset(&pw, 0, sizeof(pw));
	pw.pstmt = pstmt;
	(void) walk_statement(&pw);

	out = palloc0(Max(list_length(pw.seqscan_relids), 1) * sizeof(GuardSeqScan));
	forboth(lc1, pw.seqscan_relids, lc2, pw.seqscan_rtis)
	{
		Oid			relid = lfirst_oid(lc1);
		int			rti = lfirst_int(lc2);
		Oid			scanned = rt_fetch(rti, pstmt->rtable)->relid;
		double		rows = -1;
		char	   *name;

		/*
		 * A partition the statement names itself counts as its topmost
		 * parent too, as one reached through the parent does: twelve
		 * partitions read one by one are one large relation read.
		 */
		if (get_rel_relispartition(relid))
		{
			List	   *ancestors = get_partition_ancestors(relid);

			if (ancestors != NIL)
				relid = llast_oid(ancestors);
		}
		name = guard_relname_text(relid);

		for (i = 0; i < nsizes; i++)
			if (sizes[i].relid == scanned)
			{
				rows = sizes[i].tuples;
				break;
			}
		if (rows < 0)
		{
			/* not planned here (e.g. plan from elsewhere): use pg_class */
			Relation	rel = RelationIdGetRelation(scanned);

			rows = 0;
			if (RelationIsValid(rel))
			{
				rows = Max(rel->rd_rel->reltuples, 0);
				RelationClose(rel);
			}
		}

		/* merge partitions of one parent; a partition scanned twice counts once */
		for (i = 0; i < n; i++)
			if (strcmp(out[i].relname, name) == 0)
				break;
		if (i == n)
		{
			out[n].relid = relid;
			out[n].relname = name;
			out[n].rows = 0;
			n++;
		}
		if (!list_member_oid(seen_relids, scanned))
		{
			out[i].rows += rows;
			seen_relids = lappend_oid(seen_relids, scanned);
		}
	}

	/* sort by name for deterministic output */
	for (i = 1; i < n; i++)
	{
		GuardSeqScan tmp = out[i];
		int			j;

		for (j = i - 1; j >= 0 && strcmp(out[j].relname, tmp.relname) > 0; j--)
			out[j + 1] = out[j];
		out[j + 1] = tmp;
	}
	*result = out;
	return n;
}

/* =====================================================================
 * The carrier: fingerprint inside the PlannedStmt
 * =====================================================================
 */
/*
 * Three items carry 144 bits: each item's cacheId is negative (no syscache
 * id is) with its index in bits 28-30 and 28 bits of payload below, and
 * its hashValue carries 32 more.  Item 0: flags (16 bits) and the top 12
 * bits of query_hash; items 1 and 2: the rest of query_hash and plan_hash.
 */
#define CARRIER_ITEMS	3
#define CARRIER_MARK	((int32) 0xC0000000)	/* negative, and bit 30 set */
#define CARRIER_ID(i, payload28) \
	((int) (CARRIER_MARK | ((uint32) (i) << 28) | ((uint32) (payload28) & 0x0FFFFFFF)))

/*
 * guard_fingerprint_attach: append the fingerprint to pstmt->invalItems,
 * allocating in the plan's own memory context so that it lives and dies
 * with the plan.  The items are carved from one chunk (copyObject copies
 * them one by one, which is fine).  The core queryId needs no item: the
 * PlannedStmt has it.
 */
void
guard_fingerprint_attach(PlannedStmt *pstmt, const GuardFingerprint *fp)
{
	MemoryContext cxt = GetMemoryChunkContext(pstmt);
	PlanInvalItem *items;
	uint64		q = fp->query_hash;
	uint64		p = fp->plan_hash;
	int			i;

	if (pstmt->invalItems == NIL)
	{
		/*
		 * The common case, on every planning: one chunk holds the List, its
		 * three cells and the three items (list_free and copyObject treat it
		 * as any list whose cells are its initial ones).
		 */
		Size		listsize = MAXALIGN(offsetof(List, initial_elements) +
										CARRIER_ITEMS * sizeof(ListCell));
		char	   *chunk = MemoryContextAlloc(cxt, listsize +
											   CARRIER_ITEMS * sizeof(PlanInvalItem));
		List	   *list = (List *) chunk;

		items = (PlanInvalItem *) (chunk + listsize);
		list->type = T_List;
		list->length = CARRIER_ITEMS;
		list->max_length = CARRIER_ITEMS;
		list->elements = list->initial_elements;
		for (i = 0; i < CARRIER_ITEMS; i++)
			list->initial_elements[i].ptr_value = &items[i];
		pstmt->invalItems = list;
	}
	else
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(cxt);

		items = palloc(CARRIER_ITEMS * sizeof(PlanInvalItem));
		for (i = 0; i < CARRIER_ITEMS; i++)
			pstmt->invalItems = lappend(pstmt->invalItems, &items[i]);
		MemoryContextSwitchTo(oldcxt);
	}

	/* 16 flag bits + 12 bits of q | 32 bits of q */
	items[0].cacheId = CARRIER_ID(0, ((fp->flags | GUARD_FP_VALID) & 0xFFFF) << 12 | (uint32) (q >> 52));
	items[0].hashValue = (uint32) (q >> 20);
	/* 20 bits of q, 8 of p | 32 bits of p */
	items[1].cacheId = CARRIER_ID(1, ((uint32) (q & 0xFFFFF) << 8) | (uint32) (p >> 56));
	items[1].hashValue = (uint32) (p >> 24);
	/* 24 bits of p */
	items[2].cacheId = CARRIER_ID(2, (uint32) (p & 0xFFFFFF));
	items[2].hashValue = GUARD_FINGERPRINT_VERSION;
	for (i = 0; i < CARRIER_ITEMS; i++)
		items[i].type = T_PlanInvalItem;
}

#define CARRIER_IS(item, i) \
	(((uint32) (item)->cacheId & 0xF0000000) == ((uint32) CARRIER_MARK | ((uint32) (i) << 28)))
#define CARRIER_PAYLOAD(item) ((uint32) (item)->cacheId & 0x0FFFFFFF)

/*
 * guard_fingerprint_get: read the fingerprint back.  Returns false if the
 * plan carries none (planned while guard was off, or by a path that
 * bypassed the planner hook).  Cheap: the carrier is the last items.
 */
bool
guard_fingerprint_get(PlannedStmt *pstmt, GuardFingerprint *fp)
{
	List	   *items = pstmt->invalItems;
	ListCell   *cells;
	PlanInvalItem *i0,
			   *i1,
			   *i2;
	uint32		p0,
				p1,
				p2;

	if (items == NIL || list_length(items) < CARRIER_ITEMS)
		return false;
	cells = &items->elements[list_length(items) - CARRIER_ITEMS];
	i0 = (PlanInvalItem *) lfirst(&cells[0]);
	i1 = (PlanInvalItem *) lfirst(&cells[1]);
	i2 = (PlanInvalItem *) lfirst(&cells[2]);
	if (!CARRIER_IS(i0, 0) || !CARRIER_IS(i1, 1) || !CARRIER_IS(i2, 2) ||
		i2->hashValue != GUARD_FINGERPRINT_VERSION)
		return false;
	p0 = CARRIER_PAYLOAD(i0);
	p1 = CARRIER_PAYLOAD(i1);
	p2 = CARRIER_PAYLOAD(i2);
	fp->flags = p0 >> 12;
	fp->query_hash = ((uint64) (p0 & 0xFFF) << 52) | ((uint64) i0->hashValue << 20) | (p1 >> 8);
	fp->plan_hash = ((uint64) (p1 & 0xFF) << 56) | ((uint64) i1->hashValue << 24) | p2;
	fp->queryid = pstmt->queryId;
	return (fp->flags & GUARD_FP_VALID) != 0;
}

/*
 * A judgment (judge.c) rides in the items just before the fingerprint's
 * three: a header item (top nibble 0x9: its hashValue is the length) and
 * then 7 bytes per item (top nibble 0x8: 3 bytes in the cacheId, 4 in the
 * hashValue).  No syscache id is negative, so plancache never matches
 * them.  Only flagged plans carry one.
 */
#define BLOB_HEAD		((int32) 0x90000000)
#define BLOB_DATA		((int32) 0x80000000)
#define BLOB_IS(item, mark) \
	(((uint32) (item)->cacheId & 0xF0000000) == (uint32) (mark))
#define BLOB_MAX		(64 * 1024)

/*
 * guard_carrier_attach: append len bytes of data to pstmt->invalItems, in
 * the plan's memory context.  Call before guard_fingerprint_attach: the
 * fingerprint's items must stay last.
 */
void
guard_carrier_attach(PlannedStmt *pstmt, const char *data, int len)
{
	MemoryContext cxt = GetMemoryChunkContext(pstmt);
	int			nitems = 1 + (len + 6) / 7;
	PlanInvalItem *items;
	MemoryContext oldcxt;
	int			i;

	Assert(len >= 0 && len <= BLOB_MAX);
	items = MemoryContextAllocZero(cxt, nitems * sizeof(PlanInvalItem));
	items[0].cacheId = BLOB_HEAD | nitems;
	items[0].hashValue = (uint32) len;
	for (i = 0; i < len; i++)
	{
		PlanInvalItem *it = &items[1 + i / 7];
		int			b = i % 7;
		uint32		v = (unsigned char) data[i];

		if (b < 3)
			it->cacheId |= (int) (v << (8 * b));
		else
			it->hashValue |= v << (8 * (b - 3));
	}
	oldcxt = MemoryContextSwitchTo(cxt);
	for (i = 0; i < nitems; i++)
	{
		items[i].type = T_PlanInvalItem;
		if (i > 0)
			items[i].cacheId |= BLOB_DATA;
		pstmt->invalItems = lappend(pstmt->invalItems, &items[i]);
	}
	MemoryContextSwitchTo(oldcxt);
}

/*
 * guard_carrier_get: the bytes guard_carrier_attach put into the plan
 * (palloc'd), or NULL if it carries none.
 */
char *
guard_carrier_get(PlannedStmt *pstmt, int *len)
{
	List	   *items = pstmt->invalItems;
	int			n = list_length(items);
	int			pos;
	int			nitems;
	PlanInvalItem *head;
	char	   *data;
	int			i;

	*len = 0;
	if (n < CARRIER_ITEMS + 1)
		return NULL;
	/* the header sits nitems before the fingerprint: search back for it */
	for (pos = n - CARRIER_ITEMS - 1; pos >= 0; pos--)
	{
		PlanInvalItem *it = (PlanInvalItem *) list_nth(items, pos);

		if (BLOB_IS(it, BLOB_HEAD))
			break;
		if (!BLOB_IS(it, BLOB_DATA))
			return NULL;
	}
	if (pos < 0)
		return NULL;
	head = (PlanInvalItem *) list_nth(items, pos);
	nitems = (int) ((uint32) head->cacheId & 0x0FFFFFFF);
	if (pos + nitems != n - CARRIER_ITEMS || head->hashValue > BLOB_MAX ||
		(int) (1 + (head->hashValue + 6) / 7) != nitems)
		return NULL;
	*len = (int) head->hashValue;
	data = palloc(*len + 1);
	for (i = 0; i < *len; i++)
	{
		PlanInvalItem *it = (PlanInvalItem *) list_nth(items, pos + 1 + i / 7);
		int			b = i % 7;

		if (b < 3)
			data[i] = (char) (((uint32) it->cacheId >> (8 * b)) & 0xFF);
		else
			data[i] = (char) ((it->hashValue >> (8 * (b - 3))) & 0xFF);
	}
	data[*len] = '\0';
	return data;
}
