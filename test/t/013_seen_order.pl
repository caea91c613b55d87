# Occurrences reach guard in any order: a statement that started earlier
# may count its first execution after a later one created the entry.
# first_seen never ends up after last_seen, in guard.plans nor in
# guard.incidents.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('order');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'guard'
max_parallel_workers_per_gather = 0
max_connections = 20
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION guard;
	CREATE TABLE big(id int PRIMARY KEY, v int);
	INSERT INTO big SELECT g, g FROM generate_series(1, 20000) g;
	ANALYZE big;
	-- the statement inside runs 1 s after the calling statement started:
	-- its occurrences carry that older start time
	CREATE FUNCTION late(s float8) RETURNS bigint LANGUAGE plpgsql AS $$
	DECLARE n bigint;
	BEGIN
		PERFORM pg_sleep(s);
		SELECT count(*) INTO n FROM big WHERE v + 0 > 0;
		RETURN n;
	END $$;
});

# four first executions at once: three start early and run late, one
# starts half a second later and runs first
my @s;
for my $i (1 .. 3)
{
	push @s, $node->background_psql('postgres');
	$s[-1]->query_until(qr/^$/, "SELECT late(1.5);\n");
}
sleep 1;
$node->safe_psql('postgres', 'SELECT count(*) FROM big WHERE v + 0 > 0');
sleep 2;
$_->quit for @s;

is($node->safe_psql('postgres', q{SELECT count || ' ' || (first_seen <= last_seen)
	FROM guard.incidents WHERE query LIKE '%v + $1 > $2%'}),
	'4 true', 'the incident counted four occurrences, first_seen <= last_seen');
is($node->safe_psql('postgres', q{SELECT calls || ' ' || (first_seen <= last_seen)
	FROM guard.plans WHERE query LIKE '%v + $1 > $2%'}),
	'4 true', 'the plan counted four executions, first_seen <= last_seen');
is($node->safe_psql('postgres', q{SELECT bool_and(first_seen <= last_seen) FROM guard.plans}),
	't', 'every plan has first_seen <= last_seen');

$node->stop;
done_testing();
