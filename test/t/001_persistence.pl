# Observed plans survive a clean restart with identical fingerprints; a
# crash or a damaged file never brings back bad data; guard.save = off
# forgets them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('persist');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'guard'\nrestart_after_crash = on\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION guard;
	CREATE TABLE t(id int PRIMARY KEY, v text);
	INSERT INTO t SELECT g, 'x' FROM generate_series(1, 20000) g;
	ANALYZE t;
	SELECT guard.reset();
});
$node->safe_psql('postgres', 'SELECT v FROM t WHERE id = 1') for 1 .. 3;
$node->safe_psql('postgres', "SELECT count(*) FROM t WHERE v = 'y'");

my $q = q{SELECT query, query_hash, plan_hash, plan, seqscans, seqscan_rows, calls
            FROM guard.plans WHERE query LIKE '%FROM t %' ORDER BY query};
my $before = $node->safe_psql('postgres', $q);
like($before, qr/SELECT v FROM t WHERE id = \$1\|.*\|3$/m, 'three calls recorded');

$node->restart;
my $after = $node->safe_psql('postgres', $q);
is($after, $before, 'plans, hashes, texts and counters identical after a clean restart');
ok(!-e $node->data_dir . '/pg_stat/guard.stat', 'the saved file is removed once loaded');

# the same statement planned again after the restart: same fingerprint
$node->safe_psql('postgres', 'SELECT v FROM t WHERE id = 2');
is($node->safe_psql('postgres',
	q{SELECT calls FROM guard.plans WHERE query = 'SELECT v FROM t WHERE id = $1'}),
	'4', 'replanned after restart: same entry, counted');

# a backend crash reinitializes shared memory: nothing stale comes back
my $bg = $node->background_psql('postgres');
my $victim = $bg->query_safe('SELECT pg_backend_pid()');
kill 'KILL', $victim;
eval { $bg->quit; };
$node->poll_query_until('postgres', 'SELECT 1', '1');
is($node->safe_psql('postgres', q{SELECT count(*) FROM guard.plans WHERE query LIKE '%FROM t %'}),
	'0', 'nothing is restored after a crash');

# a damaged file is ignored with a LOG line, and the server starts
$node->safe_psql('postgres', 'SELECT v FROM t WHERE id = 1');
$node->stop;
my $file = $node->data_dir . '/pg_stat/guard.stat';
ok(-s $file, 'file written at clean shutdown');
my $size = -s $file;
open(my $fh, '+<', $file) or die;
binmode $fh;
truncate($fh, int($size / 2));
close $fh;
my $logstart = -s $node->logfile;
$node->start;
is($node->safe_psql('postgres', 'SELECT count(*) FROM guard.plans'), '1',
	'a damaged file restores nothing');
ok($node->log_contains('ignoring damaged file "pg_stat/guard.stat"', $logstart),
	'the damaged file is reported');

# garbage of another format is ignored too
$node->stop;
open($fh, '>', $file) or die;
print $fh "this is not a guard file at all, just some bytes long enough";
close $fh;
$logstart = -s $node->logfile;
$node->start;
ok($node->log_contains('ignoring file "pg_stat/guard.stat" written by another version', $logstart),
	'a foreign file is reported and ignored');

# guard.save = off: nothing is kept
$node->safe_psql('postgres', 'SELECT v FROM t WHERE id = 1');
$node->append_conf('postgresql.conf', "guard.save = off\n");
$node->reload;
$node->restart;
is($node->safe_psql('postgres', q{SELECT count(*) FROM guard.plans WHERE query LIKE '%FROM t %'}),
	'0', 'guard.save = off forgets plans at shutdown');

$node->stop;
done_testing();
