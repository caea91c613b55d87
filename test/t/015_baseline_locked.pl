# A baseline that cannot be read is unknown, not empty: a session that
# starts while guard.baseline is locked (LOCK ... ACCESS EXCLUSIVE, or a
# VACUUM FULL queued behind a reader) must not block approved plans as
# new_seqscan; once the lock is gone its next statement reads the baseline
# and flagged plans, prepared ones included, are blocked again.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('locked');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'guard'
max_parallel_workers_per_gather = 0
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION guard;
	CREATE TABLE t(id int PRIMARY KEY, v int);
	INSERT INTO t SELECT g, g FROM generate_series(1, 20000) g;
	ANALYZE t;
});
$node->safe_psql('postgres', 'SELECT count(*) FROM t WHERE v > 0');
$node->safe_psql('postgres', q{
	SELECT guard.approve(query_hash, plan_hash, 'the nightly count')
	  FROM guard.plans WHERE query = 'SELECT count(*) FROM t WHERE v > $1'});
$node->safe_psql('postgres', 'ALTER DATABASE postgres SET guard.mode = block');

my ($ret, $out, $err) = $node->psql('postgres', 'SELECT sum(v) FROM t WHERE v > 0');
like($err, qr/guard blocked a plan that sequentially scans public\.t/, 'unlocked: a flagged plan is blocked');

# session A locks the table
my $a = $node->background_psql('postgres');
$a->query_safe('BEGIN');
$a->query_safe('LOCK guard.baseline IN ACCESS EXCLUSIVE MODE');

# session B starts now: it cannot read the baseline
my $b = $node->background_psql('postgres', on_error_stop => 0);
($out, $ret) = $b->query('SELECT count(*) FROM t WHERE v > 0');
is($ret, 0, 'locked: the approved statement is not blocked');
is($out, '20000', 'and returns its rows');
$b->{stderr} = '';
($out, $ret) = $b->query('PREPARE fl AS SELECT max(v) FROM t');
($out, $ret) = $b->query('EXECUTE fl');
is($ret, 0, 'locked: a plan guard cannot judge runs');
unlike($b->{stderr}, qr/new_seqscan|blocked/, 'without a false new_seqscan');

# A commits: B's next statement reads the baseline
$a->query_safe('COMMIT');
$b->{stderr} = '';
($out, $ret) = $b->query('SELECT count(*) FROM t WHERE v > 0');
is($ret, 0, 'unlocked: the approved statement runs');
$b->{stderr} = '';
($out, $ret) = $b->query('SELECT sum(v) FROM t WHERE v > 0');
isnt($ret, 0, 'unlocked: the flagged statement is blocked again');
like($b->{stderr}, qr/guard blocked a plan that sequentially scans public\.t/, 'with guard\'s error');
$b->{stderr} = '';
($out, $ret) = $b->query('EXECUTE fl');
isnt($ret, 0, 'and so is the prepared one planned while the baseline was unknown');
$b->quit;

# a VACUUM FULL queued behind a reader: new sessions cannot lock the table
# either
$a->query_safe('BEGIN');
$a->query_safe('SELECT count(*) FROM guard.baseline');
my $v = $node->background_psql('postgres');
$v->query_until(qr/vacuuming/, "\\echo vacuuming\nVACUUM FULL guard.baseline;\n");
$node->poll_query_until('postgres', q{
	SELECT count(*) > 0 FROM pg_stat_activity
	 WHERE wait_event_type = 'Lock' AND query LIKE 'VACUUM FULL%'})
  or die 'VACUUM FULL did not queue';
my $c = $node->background_psql('postgres', on_error_stop => 0);
($out, $ret) = $c->query('SELECT count(*) FROM t WHERE v > 0');
is($ret, 0, 'VACUUM FULL queued: the approved statement is not blocked');
is($out, '20000', 'and returns its rows');
$a->query_safe('COMMIT');
$v->quit;
$c->{stderr} = '';
($out, $ret) = $c->query('SELECT sum(v) FROM t WHERE v > 0');
isnt($ret, 0, 'VACUUM FULL done: the flagged statement is blocked again');
$c->{stderr} = '';
($out, $ret) = $c->query('SELECT count(*) FROM t WHERE v > 0');
is($ret, 0, 'and the approved one runs');
$c->quit;
$a->quit;

$node->stop;
done_testing();
