# Incidents: the NOTIFY reaches listeners although the blocked transaction
# rolled back, one LOG line per new incident, and the incidents survive a
# clean restart and a crash.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('incidents');
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
	INSERT INTO big SELECT g, g FROM generate_series(1, 20000) g;
	ANALYZE big;
	ALTER DATABASE postgres SET guard.mode = block;
});

# a listener waits; another session's flagged statement is blocked and its
# transaction rolls back
my ($out, $err) = ('', '');
my $listener = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'),
	  '-c', 'LISTEN guard_incident', '-c', 'SELECT pg_sleep(4)', '-c', 'SELECT 1' ],
	'>', \$out, '2>', \$err);
sleep 1;
my $logstart = -s $node->logfile;
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{
	BEGIN;
	SELECT count(*) FROM big WHERE v = 7;
	ROLLBACK;});
like($stderr, qr/guard blocked a plan that sequentially scans public\.big/, 'the flagged statement is blocked');
$listener->finish;
like($out, qr/Asynchronous notification "guard_incident" with payload "\{"incident_id": 1, "database": "postgres", "query_hash": -?\d+, "plan_hash": -?\d+, "reason": "new_seqscan", "action": "blocked"\}"/,
	'the listener got the notification, though the transaction rolled back');
unlike($out, qr/big|SELECT/, 'without texts or relation names: guard.incidents masks them');

# one LOG line per new incident, not per occurrence
$node->psql('postgres', 'SELECT count(*) FROM big WHERE v = 8') for 1 .. 3;
ok($node->wait_for_log(qr/LOG:  guard incident \{"incident_id": 1,/, $logstart),
	'the incident has its LOG line');
my $log = slurp_file($node->logfile, $logstart);
my $lines = () = $log =~ /guard incident \{/g;
is($lines, 1, 'one LOG line for four occurrences');
is($node->safe_psql('postgres', 'SELECT count FROM guard.incidents'), '4', 'all four counted');

# a clean restart keeps them
$node->restart;
is($node->safe_psql('postgres', q{SELECT incident_id || ' ' || reason || ' ' || count FROM guard.incidents}),
	'1 new_seqscan 4', 'the incident survives a clean restart');

# a crash keeps what the notifier saved; ids go on from there
$node->psql('postgres', 'SELECT v FROM big WHERE v + 1 = 9');
my $file = $node->data_dir . '/pg_stat/guard_incidents.stat';
my $saved = 0;
for (1 .. 300)
{
	if (-f $file && index(slurp_file($file), 'v + $1 = $2') >= 0)
	{
		$saved = 1;
		last;
	}
	usleep(100_000);
}
ok($saved, 'the notifier saved the new incident to the file');
# a backend dies: the postmaster re-initializes shared memory
my $victim = $node->background_psql('postgres');
my $pid = $victim->query_safe('SELECT pg_backend_pid()');
$logstart = -s $node->logfile;
kill 'KILL', $pid;
ok($node->wait_for_log(qr/all server processes terminated; reinitializing/, $logstart),
	'the server restarts after the crash');
eval { $victim->quit; };
$node->poll_query_until('postgres', 'SELECT true') or die 'no restart';
is($node->safe_psql('postgres', q{SELECT string_agg(incident_id::text, ',' ORDER BY incident_id) FROM guard.incidents}),
	'1,2', 'the incidents survive a crash');
$node->psql('postgres', 'SELECT id FROM big WHERE v * 3 = 9');
is($node->safe_psql('postgres', q{SELECT count(*) FROM guard.incidents WHERE incident_id > 2}),
	'1', 'incident ids are never reused');

# an incident whose action escalates (observe, then block) is announced
# again; further occurrences are not
$logstart = -s $node->logfile;
$node->safe_psql('postgres', q{SET guard.mode = observe; SELECT count(*) FROM big WHERE v - 1 = 0});
$node->psql('postgres', 'SELECT count(*) FROM big WHERE v - 1 = 0') for 1 .. 2;
my $esc = $node->safe_psql('postgres', q{SELECT incident_id FROM guard.incidents WHERE query LIKE '%v - $1 = $2%'});
ok($node->wait_for_log(qr/guard incident \{"incident_id": $esc,.*"action": "blocked"/, $logstart),
	'the escalation to blocked has its LOG line');
$log = slurp_file($node->logfile, $logstart);
$lines = () = $log =~ /guard incident \{"incident_id": $esc,/g;
is($lines, 2, 'one LOG line when logged, one when blocked, none for the repeat');

# bounds and eviction: test/t/010_incident_flood.pl
$node->safe_psql('postgres', 'SELECT guard.reset()');

# a damaged file is ignored with a LOG line, and the server starts
$node->stop;
ok(-f $file, 'the incidents file was written at shutdown');
open(my $fh, '+<', $file) or die;
binmode $fh;
seek($fh, 40, 0);
print $fh "garbage" x 10;
truncate($fh, 200);
close $fh;
$logstart = -s $node->logfile;
$node->start;
ok($node->log_contains(qr/ignoring damaged file "pg_stat\/guard_incidents.stat"/, $logstart),
	'a damaged incidents file is reported');
is($node->safe_psql('postgres', 'SELECT count(*) FROM guard.incidents'), '0', 'and ignored');

$node->stop;
done_testing();
