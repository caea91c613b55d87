# Approving a plan guard no longer holds in guard.plans (gone after a
# crash, evicted, or taken from an incident): the approval
# takes the query and plan texts from the plan's incident, so the baseline
# knows which relations the approved plan reads and does not flag its
# parallel variant.  With neither, the approval warns that the shape is
# unknown.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('unobserved');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'guard'
max_parallel_workers_per_gather = 0
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION guard;
	CREATE TABLE big(id int PRIMARY KEY, v int);
	INSERT INTO big SELECT g, g FROM generate_series(1, 100000) g;
	ANALYZE big;
});
# observe mode: an incident
$node->safe_psql('postgres', 'SELECT count(*) FROM big WHERE v = 7');
is($node->safe_psql('postgres', q{SELECT reason FROM guard.incidents}), 'new_seqscan', 'an incident');

# a crash forgets the plans, keeps the incidents the notifier saved
my $file = $node->data_dir . '/pg_stat/guard_incidents.stat';
my $saved = 0;
for (1 .. 300)
{
	if (-f $file && index(slurp_file($file), 'v = $1') >= 0)
	{
		$saved = 1;
		last;
	}
	usleep(100_000);
}
ok($saved, 'the notifier saved the incident');
my $victim = $node->background_psql('postgres');
my $pid = $victim->query_safe('SELECT pg_backend_pid()');
my $logstart = -s $node->logfile;
kill 'KILL', $pid;
ok($node->wait_for_log(qr/all server processes terminated; reinitializing/, $logstart),
	'the server restarts after the crash');
eval { $victim->quit; };
$node->poll_query_until('postgres', 'SELECT true') or die 'no restart';
is($node->safe_psql('postgres', q{SELECT count(*) FROM guard.plans WHERE query LIKE '%FROM big%'}),
	'0', 'the plan is gone from guard.plans');
is($node->safe_psql('postgres', q{SELECT reason FROM guard.incidents}), 'new_seqscan',
	'the incident is still there');
my ($ret, $out, $err) = $node->psql('postgres', q{
	SELECT guard.approve(query_hash, plan_hash, 'from the incident') FROM guard.incidents});
is($ret, 0, 'approved from the incident');
unlike($err, qr/WARNING/, 'without a warning');
is($node->safe_psql('postgres', q{SELECT query, plan FROM guard.baseline}),
	"SELECT count(*) FROM big WHERE v = \$1|Aggregate\n  Seq Scan on public.big",
	'the decision has the texts of the incident');

# the parallel variant of the approved plan reads the same relation by
# (Parallel) Seq Scan: not new
my $parallel = q{
	SET max_parallel_workers_per_gather = 2;
	SET parallel_setup_cost = 0;
	SET parallel_tuple_cost = 0;
	SET min_parallel_table_scan_size = 0;
	SELECT verdict, plan LIKE '%Parallel Seq Scan on public.big%'
	  FROM guard.explain('SELECT count(*) FROM big WHERE v = 8')};
is($node->safe_psql('postgres', $parallel), 'ok|t', 'its parallel variant is not flagged');

# a plan guard holds nowhere: approved, with a warning and a hint
($ret, $out, $err) = $node->psql('postgres', 'SELECT guard.approve(1, 2)');
is($ret, 0, 'a plan guard never saw is approved');
like($err, qr/WARNING:  approved plan 2 of statement 1 without its shape/, 'with a warning');
like($err, qr/HINT:  Run the statement once so that guard observes the plan, then approve it again\./,
	'and a hint');

$node->stop;
done_testing();
