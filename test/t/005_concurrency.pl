# Many backends planning and executing at once, with evictions and resets
# running beside them: no error, no warning, counts add up.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('concurrency');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'guard'
guard.max_plans = 200
max_connections = 40
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION guard;
	CREATE TABLE t(id int PRIMARY KEY, v int);
	INSERT INTO t SELECT g, g FROM generate_series(1, 10000) g;
	ANALYZE t;
});

# hot statement with a fixed count, and a churn of distinct statements
my $dir = $PostgreSQL::Test::Utils::tmp_check;
open(my $fh, '>', "$dir/hot.sql") or die;
print $fh "\\set id random(1, 10000)\nSELECT v FROM t WHERE id = :id;\n";
close $fh;
# 300 structurally distinct statements (aliases and constants do not count)
my @churn;
for my $f (1 .. 30)
{
	open($fh, '>', "$dir/churn$f.sql") or die;
	for my $k (1 .. 10)
	{
		my $cols = ($f - 1) * 10 + $k;
		print $fh 'SELECT ' . join(', ', ('v') x $cols) . " FROM t WHERE id = 1;\n";
	}
	close $fh;
	push @churn, '-f', "$dir/churn$f.sql";
}
open($fh, '>', "$dir/reset.sql") or die;
print $fh "SELECT count(*) FROM guard.plans;\n";
close $fh;

$node->safe_psql('postgres', 'SELECT guard.reset()');
$node->command_ok(
	[ 'pgbench', '-n', '-c', '8', '-j', '2', '-t', '500', '-M', 'prepared',
	  '-f', "$dir/hot.sql", $node->connstr('postgres') ],
	'8 clients, prepared statements');
is($node->safe_psql('postgres',
	q{SELECT sum(calls) FROM guard.plans WHERE query LIKE 'SELECT v FROM t WHERE id = $1'}),
	'4000', 'every execution of the cached plan was counted exactly once');

my $logstart = -s $node->logfile;
$node->command_ok(
	[ 'pgbench', '-n', '-c', '8', '-j', '2', '-t', '300', '-M', 'simple',
	  @churn, '-f', "$dir/hot.sql\@5", '-f', "$dir/reset.sql\@1",
	  $node->connstr('postgres') ],
	'8 clients, churn of distinct statements under eviction');
ok(!$node->log_contains('WARNING|PANIC|TRAP|terminated by signal', $logstart),
	'no warning, crash or assertion in the server log');
like($node->safe_psql('postgres', 'SELECT evictions > 0 AND plans <= max_plans FROM guard.info'),
	qr/^t$/, 'evictions happened and the bound held');
$node->stop;
done_testing();
