# An incident whose LOG line was written survives a crash of any backend,
# and incident ids are never reused, crash or not.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
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
});

# crash the server through a backend right after the incident's LOG line
sub crash
{
	my $victim = $node->background_psql('postgres');
	my $pid = $victim->query_safe('SELECT pg_backend_pid()');
	my $logstart = -s $node->logfile;
	kill 'KILL', $pid;
	ok($node->wait_for_log(qr/all server processes terminated; reinitializing/, $logstart),
		'the server restarts after the crash');
	eval { $victim->quit; };
	$node->poll_query_until('postgres', 'SELECT true') or die 'no restart';
}

my $seen = 0;
for my $round (1 .. 3)
{
	# the statement's own backend is killed the moment its LOG line is out
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	my $logstart = -s $node->logfile;
	my $cols = join(', ', ('v') x $round);
	$s->query_until(qr/^$/, "SELECT $cols FROM big WHERE v > 0 LIMIT 0;\n");
	ok($node->wait_for_log(qr/guard incident \{"incident_id": (\d+),/, $logstart),
		"round $round: the incident has its LOG line");
	my ($id) = slurp_file($node->logfile, $logstart) =~ /guard incident \{"incident_id": (\d+),/;
	kill 'KILL', $pid;
	$node->wait_for_log(qr/all server processes terminated; reinitializing/, $logstart);
	eval { $s->quit; };
	$node->poll_query_until('postgres', 'SELECT true') or die 'no restart';
	is($node->safe_psql('postgres', "SELECT count(*) FROM guard.incidents WHERE incident_id = $id AND query LIKE 'SELECT $cols FROM big%'"),
		'1', "round $round: the logged incident $id survived the crash");
	cmp_ok($id, '>', $seen, "round $round: its id $id is larger than any before");
	$seen = $id;
}

# another backend crashes: ids still go up, never back
crash();
$node->psql('postgres', 'SELECT id, v FROM big WHERE v > 0 LIMIT 0');
my $max = $node->safe_psql('postgres', q{SELECT max(incident_id) FROM guard.incidents WHERE query LIKE 'SELECT id, v%'});
cmp_ok($max, '>', $seen, 'after another crash a new incident gets a new, larger id');
is($node->safe_psql('postgres', 'SELECT count(DISTINCT incident_id) = count(*) FROM guard.incidents'),
	't', 'ids are unique');

# a clean restart numbers on without a gap
$node->restart;
$node->psql('postgres', 'SELECT id, v, v FROM big WHERE v > 0 LIMIT 0');
is($node->safe_psql('postgres', q{SELECT max(incident_id) FROM guard.incidents WHERE query LIKE 'SELECT id, v, v%'}),
	$max + 1, 'after a clean restart ids go on from the last one');

$node->stop;
done_testing();
