# On a hot standby guard works read-only: it records plans, blocks flagged
# ones, and decisions made on the primary apply after replay.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'guard'\n");
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION guard;
	CREATE TABLE t(id int PRIMARY KEY, v int);
	INSERT INTO t SELECT g, g FROM generate_series(1, 20000) g;
	ANALYZE t;
});
$primary->backup('backup');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->append_conf('postgresql.conf', "guard.mode = block\n");
$standby->start;
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

# read-only: good statements run and are recorded in the standby's own store
is($standby->safe_psql('postgres', 'SELECT v FROM t WHERE id = 5'), '5', 'an index plan runs on the standby');
is($standby->safe_psql('postgres', q{SELECT calls FROM guard.plans WHERE query = 'SELECT v FROM t WHERE id = $1'}),
	'1', 'and is recorded there');

# blocking works on the standby
my ($ret, $out, $err) = $standby->psql('postgres', 'SELECT count(*) FROM t WHERE v > 0');
isnt($ret, 0, 'a flagged plan is blocked on the standby');
like($err, qr/guard blocked a plan that sequentially scans public\.t/, 'with guard\'s error');
is($standby->safe_psql('postgres',
	q{SELECT reason || ' ' || relation || ' ' || action || ' ' || count FROM guard.incidents}),
	'new_seqscan public.t blocked 1', 'the incident is recorded on the standby, read-only');
my $logstart = 0;
ok($standby->wait_for_log(qr/guard incident \{"incident_id": \d+, "database": "postgres".*"action": "blocked"/, $logstart),
	'the standby writes the incident\'s LOG line');

# a standby session stays open; the DBA approves the plan on the primary
my $s = $standby->background_psql('postgres', on_error_stop => 0);
$s->query('SELECT 1');
my $hashes = $standby->safe_psql('postgres', q{
	SELECT query_hash || ', ' || plan_hash FROM guard.plans WHERE query LIKE '%v > $1%'});
$primary->safe_psql('postgres', "SELECT guard.approve($hashes, 'approved on the primary')");
$primary->wait_for_catchup($standby);

$s->{stderr} = '';
($out, $ret) = $s->query('SELECT count(*) FROM t WHERE v > 0');
is($ret, 0, 'after replay, the open standby session runs the approved plan');
is($out, '20000', 'and gets its rows');
$s->quit;
is($standby->safe_psql('postgres', q{SELECT status FROM guard.plans WHERE query LIKE '%v > $1%'}),
	'approved', 'the standby sees the decision');
is($standby->safe_psql('postgres', q{SELECT status FROM guard.incidents}),
	'approved', 'and shows the incident\'s plan as approved');

$standby->stop;
$primary->stop;
done_testing();
