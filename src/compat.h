/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Every PostgreSQL version test guard needs, in one place.
 *
 * guard is built and tested against PostgreSQL 15 and 18.  The macros below
 * keep 13 to 18 buildable: code elsewhere calls these wrappers, or tests a
 * GUARD_HAVE_* macro defined here, and never tests PG_VERSION_NUM itself.
 *
 * Where a node field a hash reads changed between majors, the wrapper maps
 * the new field onto the values 15 hashes, so that a statement's hash input
 * on 15 stays what it was.
 *
 * IDENTIFICATION
 *		src/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_COMPAT_H
#define GUARD_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 130000
#error "guard requires PostgreSQL 13 or later"
#endif

/* shmem_request_hook appeared in 15; before it, requests go in _PG_init. */
#if PG_VERSION_NUM >= 150000
#define GUARD_HAVE_SHMEM_REQUEST_HOOK 1
#endif

/* MarkGUCPrefixReserved replaced EmitWarningsOnPlaceholders in 15. */
#if PG_VERSION_NUM >= 150000
#define GuardMarkGUCPrefixReserved(prefix) MarkGUCPrefixReserved(prefix)
#else
#define GuardMarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/* post_parse_analyze_hook got the JumbleState in 14. */
#if PG_VERSION_NUM >= 140000
#define GUARD_POST_PARSE_ARGS ParseState *pstate, Query *query, JumbleState *jstate
#define GUARD_POST_PARSE_CALL(hook) (hook) (pstate, query, jstate)
#else
#define GUARD_POST_PARSE_ARGS ParseState *pstate, Query *query
#define GUARD_POST_PARSE_CALL(hook) (hook) (pstate, query)
#endif

/* ExecutorRun lost its execute_once argument in 18. */
#if PG_VERSION_NUM >= 180000
#define GUARD_EXECUTOR_RUN_ARGS QueryDesc *queryDesc, ScanDirection direction, uint64 count
#define GUARD_EXECUTOR_RUN_PASS queryDesc, direction, count
#else
#define GUARD_EXECUTOR_RUN_ARGS QueryDesc *queryDesc, ScanDirection direction, uint64 count, bool execute_once
#define GUARD_EXECUTOR_RUN_PASS queryDesc, direction, count, execute_once
#endif

/* ProcessUtility got readOnlyTree in 14. */
#if PG_VERSION_NUM >= 140000
#define GUARD_UTILITY_ARGS PlannedStmt *pstmt, const char *queryString, \
	bool readOnlyTree, ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define GUARD_UTILITY_PASS pstmt, queryString, readOnlyTree, context, params, \
	queryEnv, dest, qc
#else
#define GUARD_UTILITY_ARGS PlannedStmt *pstmt, const char *queryString, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define GUARD_UTILITY_PASS pstmt, queryString, context, params, \
	queryEnv, dest, qc
#endif

/* Node field renames. */
#if PG_VERSION_NUM >= 160000
#define GUARD_RTE_PERMINFO 1
#endif

/* pg_analyze_and_rewrite_fixedparams / varparams names came in 15. */
#if PG_VERSION_NUM >= 150000
#define GuardAnalyzeVarparams(raw, src, types, n, env) \
	pg_analyze_and_rewrite_varparams((raw), (src), (types), (n), (env))
#else
#define GuardAnalyzeVarparams(raw, src, types, n, env) \
	pg_analyze_and_rewrite_params((raw), (src), (ParserSetupHook) parse_variable_parameters, NULL, (env))
#endif

/* WARNING_CLIENT_ONLY (a warning the server log does not get) came in 14. */
#ifdef WARNING_CLIENT_ONLY
#define GUARD_WARNING_CLIENT WARNING_CLIENT_ONLY
#else
#define GUARD_WARNING_CLIENT WARNING
#endif

/* ExecCheckRTPerms became ExecCheckPermissions (with permInfos) in 16. */
#if PG_VERSION_NUM >= 160000
#define GuardCheckPermissions(pstmt, raise) \
	ExecCheckPermissions((pstmt)->rtable, (pstmt)->permInfos, (raise))
#else
#define GuardCheckPermissions(pstmt, raise) \
	ExecCheckRTPerms((pstmt)->rtable, (raise))
#endif

/* PgStat_StatTabEntry.n_live_tuples became live_tuples in 16. */
#if PG_VERSION_NUM >= 160000
#define GUARD_LIVE_TUPLES(tabentry) ((tabentry)->live_tuples)
#else
#define GUARD_LIVE_TUPLES(tabentry) ((tabentry)->n_live_tuples)
#endif

/* pg_proc_aclcheck became object_aclcheck in 16. */
#if PG_VERSION_NUM >= 160000
#include "catalog/pg_proc_d.h"	/* ProcedureRelationId */
#define GuardFunctionAclCheck(func, role) \
	object_aclcheck(ProcedureRelationId, (func), (role), ACL_EXECUTE)
#else
#define GuardFunctionAclCheck(func, role) \
	pg_proc_aclcheck((func), (role), ACL_EXECUTE)
#endif

/*
 * ExplainOnePlan got the planner's memory counters (EXPLAIN (MEMORY)) in 17;
 * in 18 ExplainState and ExplainPropertyText moved to their own headers
 * (commands/explain_state.h, commands/explain_format.h).
 */
/*
 * 18's explain_per_plan_hook lets an extension add a property to EXPLAIN in
 * every format, and is called for EXPLAIN EXECUTE too.
 */
#if PG_VERSION_NUM >= 180000
#define GUARD_HAVE_EXPLAIN_PER_PLAN_HOOK 1
#endif

#if PG_VERSION_NUM >= 170000
#define GUARD_HAVE_EXPLAIN_MEMORY 1
#endif
#if PG_VERSION_NUM >= 180000
#define GUARD_HAVE_EXPLAIN_STATE_H 1
#endif

/*
 * MergeAction's bool "matched" became the three-valued matchKind in 17
 * (WHEN NOT MATCHED BY SOURCE is new).  The hash input: 1 for WHEN MATCHED
 * and 0 for WHEN NOT MATCHED [BY TARGET], as 15 hashes the bool; 2 for
 * WHEN NOT MATCHED BY SOURCE, which 15 cannot express.
 */
#if PG_VERSION_NUM >= 170000
#define GuardMergeActionMatched(action) \
	((action)->matchKind == MERGE_WHEN_MATCHED ? 1 : \
	 (action)->matchKind == MERGE_WHEN_NOT_MATCHED_BY_TARGET ? 0 : 2)
#else
#define GuardMergeActionMatched(action) ((action)->matched ? 1 : 0)
#endif

/*
 * RowCompareExpr's rctype (RowCompareType) became cmptype (CompareType) in
 * 18; the two enums number LT..NE alike (1..6, the btree strategies), so the
 * hash input is the same number on both.
 */
#if PG_VERSION_NUM >= 180000
#define GuardRowCompareType(rcexpr) ((int) (rcexpr)->cmptype)
#else
#define GuardRowCompareType(rcexpr) ((int) (rcexpr)->rctype)
#endif

/* The range table got RTE_GROUP entries (the grouping step) in 18. */
#if PG_VERSION_NUM >= 180000
#define GUARD_HAVE_RTE_GROUP 1
#endif

/*
 * Fingerprint rules 2 (fingerprint.c) hash node types and enum members by
 * name; these say which names the server being built for has.
 *
 * The NodeTag names 18 has and 15 lacks (src/nodenames.h).
 */
#if PG_VERSION_NUM >= 180000
#define GUARD_HAVE_PG18_NODETAGS 1
#endif

/* JoinType got JOIN_RIGHT_ANTI in 16 and JOIN_RIGHT_SEMI in 18. */
#if PG_VERSION_NUM >= 160000
#define GUARD_HAVE_JOIN_RIGHT_ANTI 1
#endif
#if PG_VERSION_NUM >= 180000
#define GUARD_HAVE_JOIN_RIGHT_SEMI 1
#endif

/* LimitOption lost LIMIT_OPTION_DEFAULT (never set by the parser) in 16. */
#if PG_VERSION_NUM < 160000
#define GUARD_HAVE_LIMIT_OPTION_DEFAULT 1
#endif

/*
 * MERGE's join condition moved from jointree->quals to the new
 * Query.mergeJoinCondition in 17 (WHEN NOT MATCHED BY SOURCE needs it
 * apart).
 */
#if PG_VERSION_NUM >= 170000
#define GuardMergeJoinCondition(query) ((query)->mergeJoinCondition)
#else
#define GuardMergeJoinCondition(query) ((Node *) NULL)
#endif

/*
 * RETURNING old.a / new.a (18): Var.varreturningtype.  guard's own number:
 * 0 the default (every Var before 18), 1 old, 2 new.
 */
#if PG_VERSION_NUM >= 180000
#define GuardVarReturningType(var) \
	((var)->varreturningtype == VAR_RETURNING_OLD ? 1 : \
	 (var)->varreturningtype == VAR_RETURNING_NEW ? 2 : 0)
#else
#define GuardVarReturningType(var) 0
#endif

#endif							/* GUARD_COMPAT_H */
