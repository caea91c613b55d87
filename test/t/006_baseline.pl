# The baseline: a decision made in one session takes effect in every other
# session at its next statement; the baseline survives pg_dump/restore;
# ALTER EXTENSION UPDATE from 0.1 adds it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('baseline');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'guard'\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION guard;
	CREATE TABLE t(id int PRIMARY KEY, v int);
	INSERT INTO t SELECT g, g FROM generate_series(1, 20000) g;
	ANALYZE t;
});

# session A is open and has its baseline cached
my $a = $node->background_psql('postgres');
$a->query_safe('SELECT v FROM t WHERE v = 1');
my $status = q{SELECT status FROM guard.plans WHERE query = 'SELECT v FROM t WHERE v = $1'};
is($a->query_safe($status), 'new', 'session A: the plan is new');

# session B rejects it
$node->safe_psql('postgres', q{
	SELECT guard.reject(query_hash, plan_hash, 'full scan')
	  FROM guard.plans WHERE query = 'SELECT v FROM t WHERE v = $1'});
is($a->query_safe($status), 'rejected', 'session A sees the decision at its next statement');

# and approves it again, inside a transaction that rolls back: no effect
$node->safe_psql('postgres', q{
	BEGIN;
	SELECT guard.approve(query_hash, plan_hash)
	  FROM guard.plans WHERE query = 'SELECT v FROM t WHERE v = $1';
	ROLLBACK});
is($a->query_safe($status), 'rejected', 'a rolled-back decision changes nothing');
$a->quit;

# blocking: session C has a prepared, blocked statement; approving it in
# another session unblocks it at C's next execution (its cached plan is
# re-planned with the new verdict)
$node->safe_psql('postgres', 'ALTER DATABASE postgres SET guard.mode = block');
my $c = $node->background_psql('postgres', on_error_stop => 0);
$c->query('PREPARE big AS SELECT count(*) FROM t WHERE v > 0');
my ($out, $ret) = $c->query('EXECUTE big');
isnt($ret, 0, 'session C: the flagged plan is blocked');
like($c->{stderr}, qr/guard blocked a plan that sequentially scans public\.t/, 'with guard\'s error');
$node->safe_psql('postgres', q{
	SELECT guard.approve(query_hash, plan_hash, 'reviewed')
	  FROM guard.plans WHERE query LIKE 'SELECT count(*) FROM t WHERE v > %'});
$c->{stderr} = '';    # BackgroundPsql keeps the previous query's stderr
($out, $ret) = $c->query('EXECUTE big');
is($ret, 0, 'session C: approved in another session, the cached statement runs');
is($out, '20000', 'and returns its rows');
$c->quit;
$node->safe_psql('postgres', 'ALTER DATABASE postgres RESET guard.mode');

# pg_dump carries the decisions; a restore into another database keeps them
my $dump = $PostgreSQL::Test::Utils::tmp_check . '/baseline.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');
is($node->safe_psql('restored', q{SELECT status, note, query FROM guard.baseline WHERE status = 'rejected'}),
	'rejected|full scan|SELECT v FROM t WHERE v = $1', 'the baseline was restored');
$node->safe_psql('restored', 'SELECT v FROM t WHERE v = 1');
is($node->safe_psql('restored', q{SELECT status FROM guard.plans
	WHERE query = 'SELECT v FROM t WHERE v = $1' AND database = 'restored'}),
	'rejected', 'the restored decision applies to the same statement and plan');

# upgrade from the first release
$node->safe_psql('postgres', q{CREATE DATABASE old; });
$node->safe_psql('old', q{CREATE EXTENSION guard VERSION '0.1'});
is($node->safe_psql('old', q{SELECT to_regclass('guard.baseline') IS NULL}), 't', '0.1 has no baseline');
$node->safe_psql('old', q{ALTER EXTENSION guard UPDATE});
is($node->safe_psql('old', q{SELECT extversion, to_regclass('guard.baseline') IS NOT NULL
	FROM pg_extension WHERE extname = 'guard'}), '0.6|t', 'ALTER EXTENSION UPDATE adds it');
is($node->safe_psql('old', q{SELECT count(*) FROM guard.incidents WHERE database = 'old'}), '0',
	'and guard.incidents (0.3)');
$node->safe_psql('old', q{SELECT guard.approve(1, 2)});

# a database still at 0.2 keeps working with the new library
$node->safe_psql('postgres', q{CREATE DATABASE v02});
$node->safe_psql('v02', q{CREATE EXTENSION guard VERSION '0.2'});
is($node->safe_psql('v02', q{SELECT max_plans FROM guard.info}), '10000',
	'guard.info of 0.2 works with the 0.3 library');
is($node->safe_psql('v02', q{SELECT verdict FROM guard.explain('SELECT 1')}), 'ok',
	'guard.explain of 0.2 too');
is($node->safe_psql('old', q{SELECT count(*) FROM guard.baseline}), '1', 'and it works');

# a database still at 0.3 cannot make decisions under rules 2 (the
# default): its table cannot say which rules a decision was made under
$node->safe_psql('postgres', q{CREATE DATABASE v03});
$node->safe_psql('v03', q{
	CREATE EXTENSION guard VERSION '0.3';
	CREATE TABLE t(id int PRIMARY KEY, v int);
	INSERT INTO t SELECT g, g FROM generate_series(1, 20000) g;
	ANALYZE t;
});
my $err;
($ret, $out, $err) = $node->psql('v03', q{SELECT guard.approve(1, 2)});
isnt($ret, 0, '0.3 under rules 2: approve refused');
like($err, qr/table guard.baseline has no column fingerprint_rules.*\n.*read as made under guard.fingerprint_rules = 1.*\n.*ALTER EXTENSION guard UPDATE/s,
	'with the reason and the hint');
is($node->safe_psql('v03', q{SELECT count(*) FROM guard.baseline}), '0', 'nothing written');

# under rules 1, a database still at 0.3 keeps its decision functions with
# the new library: reject without until, approve_observed with 0.3's strict
# capture
$node->append_conf('postgresql.conf', 'guard.fingerprint_rules = 1');
$node->restart;
$node->safe_psql('v03', 'SET max_parallel_workers_per_gather = 0; SELECT v FROM t WHERE id = 1');
$node->safe_psql('v03', 'SET max_parallel_workers_per_gather = 0; SELECT count(*) FROM t WHERE v > 0');
is($node->safe_psql('v03', q{SELECT guard.approve_observed('0.3 capture') > 0}), 't',
	'0.3: approve_observed(note) adopts');
is($node->safe_psql('v03', q{SELECT status FROM guard.plans
	WHERE query = 'SELECT count(*) FROM t WHERE v > $1' AND database = 'v03'}), 'new',
	'0.3: and leaves the flagged plan out, as 0.3 did');
$node->safe_psql('v03', q{SELECT guard.reject(query_hash, plan_hash, 'full scan') FROM guard.plans
	WHERE query = 'SELECT count(*) FROM t WHERE v > $1' AND database = 'v03'});
is($node->safe_psql('v03', q{SELECT status, note FROM guard.baseline WHERE note = 'full scan'}),
	'rejected|full scan', '0.3: reject(query_hash, plan_hash, note) works');
$node->safe_psql('v03', q{ALTER EXTENSION guard UPDATE});
is($node->safe_psql('v03', q{SELECT status, expires_at IS NULL, fingerprint_rules IS NULL
	FROM guard.baseline WHERE note = 'full scan'}),
	'rejected|t|t', 'the update to 0.5 keeps the decisions and adds expires_at and fingerprint_rules');

$node->stop;
done_testing();
