# An application role cannot empty the review queue: a role holds at most a
# quarter of guard.max_incidents, a database at most half; a role over its
# share replaces its own incidents (resolved ones first), never another
# role's open ones; what cannot be recorded is counted; the LOG lines (and
# NOTIFYs) of one role are rate-limited.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('flood');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'guard'
max_parallel_workers_per_gather = 0
guard.max_incidents = 20
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION guard;
	CREATE TABLE big(id int PRIMARY KEY, v int);
	INSERT INTO big SELECT g, g FROM generate_series(1, 20000) g;
	ANALYZE big;
	ALTER DATABASE postgres SET guard.mode = block;
	CREATE ROLE victim LOGIN; CREATE ROLE flooder LOGIN;
	CREATE ROLE third LOGIN; CREATE ROLE fourth LOGIN;
	GRANT SELECT ON big TO victim, flooder, third, fourth;
});

# run n distinct blocked statements as role; tags keep the roles' apart
sub flood
{
	my ($role, $tag, $n) = @_;
	# structurally distinct statements (constants would not count)
	my $sql = join('', map { 'SELECT ' . join(', ', (('id') x $tag), (('v') x $_)) . " FROM big WHERE v > 0;\n" } 1 .. $n);
	$node->psql('postgres', $sql, on_error_stop => 0, extra_params => [ '-U', $role ]);
}
sub count_of
{
	my ($role) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM guard.incidents WHERE role = '$role'");
}

flood('victim', 1, 3);
is(count_of('victim'), '3', 'the victim has three open incidents');

my $logstart = -s $node->logfile;
flood('flooder', 2, 40);
is(count_of('flooder'), '5', 'a flooding role holds at most a quarter of the table');
is(count_of('victim'), '3', 'the other role\'s open incidents survived the flood');
is($node->safe_psql('postgres', 'SELECT incident_evictions || \' \' || incidents_dropped FROM guard.info'),
	'35 0', 'the flooder replaced its own incidents, counted');
my $log = slurp_file($node->logfile, $logstart);
my $lines = () = $log =~ /guard incident \{/g;
is($lines, 10, 'at most 10 incident LOG lines per role and minute');
is($node->safe_psql('postgres', 'SELECT incident_alerts_suppressed FROM guard.info'),
	'30', 'the others are counted as suppressed');

# a role at its share replaces its own resolved incident first
$node->safe_psql('postgres', q{
	SELECT guard.reject(query_hash, plan_hash) FROM guard.incidents
	 WHERE role = 'flooder' ORDER BY last_seen DESC LIMIT 1});
my $kept = $node->safe_psql('postgres', q{
	SELECT string_agg(incident_id::text, ',' ORDER BY incident_id)
	  FROM guard.incidents WHERE role = 'flooder' AND NOT resolved});
flood('flooder', 3, 1);
is($node->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE resolved) || ' ' ||
	       count(*) FILTER (WHERE NOT resolved AND incident_id::text = ANY (string_to_array('} . $kept . q{', ',')))
	  FROM guard.incidents WHERE role = 'flooder'}),
	'0 4', 'the resolved one went, the open ones stayed');

# a database holds at most half the table (10): third fills it up to 10,
# then replaces its own
flood('third', 4, 4);
is($node->safe_psql('postgres', 'SELECT count(*) FROM guard.incidents'), '10',
	'the database is at half the table');
is(count_of('third') . ' ' . count_of('victim') . ' ' . count_of('flooder'), '2 3 5',
	'a role adding to a full database replaces its own incidents only');
# fourth has none to replace and there is no resolved one: its incident is dropped
flood('fourth', 5, 1);
is(count_of('fourth') . ' ' . count_of('victim'), '0 3', 'never another role\'s open incident');
is($node->safe_psql('postgres', 'SELECT incidents_dropped FROM guard.info'), '1',
	'the dropped incident is counted');
# the statement was blocked all the same
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT id, id, id, id, id, v FROM big WHERE v > 0',
	extra_params => [ '-U', 'fourth' ]);
like($err, qr/guard blocked a plan/, 'a dropped incident does not weaken the block');

# another database has its own half
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', q{
	CREATE EXTENSION guard;
	CREATE TABLE big(id int PRIMARY KEY, v int);
	INSERT INTO big SELECT g, g FROM generate_series(1, 20000) g;
	ANALYZE big;
	ALTER DATABASE other SET guard.mode = block;
	GRANT SELECT ON big TO fourth;
});
$node->psql('other', 'SELECT id, v FROM big WHERE v > 0', extra_params => [ '-U', 'fourth' ]);
is($node->safe_psql('postgres', q{SELECT count(*) FROM guard.incidents WHERE database = 'other'}),
	'1', 'the other database records its incident');

$node->stop;
done_testing();
