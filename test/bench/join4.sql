-- pgbench custom script: 4-way join over the pgbench tables (guard overhead bench).
-- Needs pgbench_history populated + indexed on aid (done by test/bench/lib.sh
-- make_template) and -D naccounts=<scale * 100000>.
\set aid random(1, :naccounts)
SELECT a.abalance, b.bbalance, t.tbalance, h.delta FROM pgbench_accounts a JOIN pgbench_branches b ON b.bid = a.bid JOIN pgbench_tellers t ON t.bid = b.bid JOIN pgbench_history h ON h.aid = a.aid WHERE a.aid = :aid LIMIT 10;
