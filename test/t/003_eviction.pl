# A full store evicts its least recently used plans and counts them; it
# never fails a statement.  A tiny text area drops texts, never plans.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('evict');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'guard'
guard.max_plans = 100
guard.text_memory = 1MB
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION guard; CREATE TABLE t(a int, b int)');

# a statement kept hot throughout must survive eviction
my $hot = 'SELECT a FROM t WHERE b = 1';
my $sql = '';
for my $i (1 .. 400)
{
	# column aliases do not count: vary the structure instead
	$sql .= 'SELECT ' . join(', ', ('a') x $i) . " FROM t WHERE b = 1;\n";
	$sql .= "$hot;\n" if $i % 10 == 0;
}
my ($ret, $out, $err) = $node->psql('postgres', $sql, on_error_stop => 1);
$err =~ s/\s+$//;
is($ret, 0, '400 distinct statements ran');
is($err, '', 'without any error or warning');

my $info = $node->safe_psql('postgres', 'SELECT plans <= max_plans, evictions > 0, max_plans FROM guard.info');
is($info, 't|t|100', 'the store stayed within guard.max_plans and counted evictions');
is($node->safe_psql('postgres', q{SELECT calls >= 40 FROM guard.plans WHERE query = 'SELECT a FROM t WHERE b = $1'}),
	't', 'the hot statement was never evicted');

# huge texts: the text area fills, texts are evicted or dropped, not plans
my $long = join(' + ', ('a') x 1500);
$sql = '';
for my $i (1 .. 300)
{
	$sql .= "SELECT $long" . (', b' x $i) . " FROM t;\n";
}
($ret, $out, $err) = $node->psql('postgres', $sql, on_error_stop => 1);
is($ret, 0, 'statements with long texts ran') or diag(substr($err, 0, 300));
like($node->safe_psql('postgres', 'SELECT text_bytes <= text_limit FROM guard.info'), qr/^t$/,
	'texts stay within guard.text_memory');

# statements keep working after eviction and reset
is($node->safe_psql('postgres', 'SELECT guard.reset(); SELECT evictions FROM guard.info'), "\n0",
	'reset clears the eviction counter');
$node->stop;
done_testing();
