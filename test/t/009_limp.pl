# Limp mode under load: 16 pgbench clients mix good statements and a
# flagged one.  At most guard.flagged_max_concurrency flagged statements run
# at a time, the good ones never fail; slots come back after a timeout, a
# cancel and a backend exit.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;
use Time::HiRes qw(usleep time);

my $max = 2;
my $node = PostgreSQL::Test::Cluster->new('limp');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'guard'
max_connections = 40
max_parallel_workers_per_gather = 0
guard.mode = block
guard.flagged_max_concurrency = $max
guard.flagged_wait_timeout = '60s'
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION guard;
	CREATE TABLE big(id int PRIMARY KEY, v int);
	INSERT INTO big SELECT g, g FROM generate_series(1, 20000) g;
	ANALYZE big;
	SELECT v FROM big WHERE id = 1;
	SELECT guard.approve_observed();
});

my $dir = $PostgreSQL::Test::Utils::tmp_check;
open(my $fh, '>', "$dir/good.sql") or die;
print $fh "\\set id random(1, 20000)\nSELECT v FROM big WHERE id = :id;\n";
close $fh;
# flagged: a seq scan of big, held for 50 ms so that runs overlap
open($fh, '>', "$dir/flagged.sql") or die;
print $fh "\\set v random(1, 20000)\nSELECT count(*), pg_sleep(0.05) FROM big WHERE v = :v;\n";
close $fh;

# sample how many flagged statements run (not wait) at once
my $sampler_sql = q{SELECT count(*) FROM pg_stat_activity
	WHERE query LIKE 'SELECT count(*), pg_sleep%' AND wait_event = 'PgSleep'};
my ($bench_out, $bench_err) = ('', '');
my $bench = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '16', '-j', '2', '-T', '8',
	  '-f', "$dir/good.sql\@4", '-f', "$dir/flagged.sql\@1",
	  $node->connstr('postgres') ],
	'>', \$bench_out, '2>', \$bench_err);
my $seen_max = 0;
my $samples = 0;
my $sampler = $node->background_psql('postgres');
while ($bench->pumpable)
{
	my $n = $sampler->query_safe($sampler_sql);
	$seen_max = $n if $n > $seen_max;
	$samples++;
	usleep(10_000);
	$bench->pump_nb;
}
$sampler->quit;
$bench->finish;
is($bench->result(0), 0, 'pgbench succeeded: no client failed')
  or diag($bench_err);
like($bench_out, qr/number of failed transactions: 0|processed: \d+/, 'pgbench reports its transactions');
unlike($bench_err, qr/aborted|ERROR/, 'no statement failed, good or flagged');
ok($samples > 50, "sampled the running flagged statements ($samples samples)");
cmp_ok($seen_max, '<=', $max, "at most $max flagged statements ran at once (saw $seen_max)");
cmp_ok($seen_max, '>=', 1, 'flagged statements did run');
my ($waits, $running) = split /\|/, $node->safe_psql('postgres',
	'SELECT throttle_waits, flagged_running FROM guard.info');
cmp_ok($waits, '>', 0, "flagged statements had to wait for a slot ($waits waits)");
is($running, '0', 'every slot was given back');
is($node->safe_psql('postgres', q{SELECT action FROM guard.incidents WHERE query LIKE '%pg_sleep%'}),
	'throttled', 'the incident says throttled');

# a statement that waits too long fails with QG002, naming the relation
my @holders;
for (1 .. $max)
{
	my $h = $node->background_psql('postgres');
	$h->query_safe('BEGIN');
	$h->query_safe('DECLARE c CURSOR FOR SELECT id FROM big WHERE v > 0');
	$h->query_safe('FETCH 1 FROM c');
	push @holders, $h;
}
is($node->safe_psql('postgres', 'SELECT flagged_running FROM guard.info'), "$max",
	'open cursors hold the slots');
my $t0 = time;
my ($ret, $out, $err) = $node->psql('postgres',
	q{SET guard.flagged_wait_timeout = '300ms'; SELECT count(*) FROM big WHERE v < 0},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
my $waited = time - $t0;
isnt($ret, 0, 'a flagged statement that finds no slot fails');
like($err, qr/ERROR:  QG002: guard throttled a plan that sequentially scans public\.big \(about 20000 rows\): 2 flagged statements already running, waited 300 ms/,
	'with SQLSTATE QG002 and a message naming the relation');
cmp_ok($waited, '>=', 0.3, 'after waiting for the timeout');
is($node->safe_psql('postgres', 'SELECT count(*) FROM big WHERE id = 5'), '1',
	'good statements run meanwhile');

# backend exit gives a slot back
my $gone_pid = $holders[0]->query_safe('SELECT pg_backend_pid()');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($gone_pid)");
eval { $holders[0]->quit; };
$node->poll_query_until('postgres', 'SELECT flagged_running = ' . ($max - 1) . ' FROM guard.info')
  or die 'slot not given back';
pass('a terminated backend gave its slot back');
$holders[1]->query_safe('COMMIT');
$holders[1]->quit;
is($node->safe_psql('postgres', 'SELECT flagged_running FROM guard.info'), '0',
	'a committed cursor gave its slot back');

# a cancelled flagged statement gives its slot back
my $c = $node->background_psql('postgres', on_error_stop => 0);
$c->query_until(qr/started/, q{\echo started
SELECT count(*), pg_sleep(30) FROM big WHERE v = 3;
});
$node->poll_query_until('postgres', 'SELECT flagged_running = 1 FROM guard.info')
  or die 'the statement did not start';
$node->safe_psql('postgres', q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity
	WHERE query LIKE 'SELECT count(*), pg_sleep(30)%'});
$node->poll_query_until('postgres', 'SELECT flagged_running = 0 FROM guard.info')
  or die 'slot not given back after cancel';
pass('a cancelled statement gave its slot back');
$c->quit;

$node->stop;
done_testing();
