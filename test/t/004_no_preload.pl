# Without shared_preload_libraries the extension installs, statements run
# untouched, and every function that needs the store says how to fix it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('nopreload');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION guard');
foreach my $call ('SELECT * FROM guard.plans', 'SELECT * FROM guard.info', 'SELECT guard.reset()')
{
	my ($ret, $out, $err) = $node->psql('postgres', $call);
	isnt($ret, 0, "$call fails");
	like($err, qr/guard must be loaded via shared_preload_libraries/, "$call names the problem");
	like($err, qr/HINT:  Add guard to shared_preload_libraries/, "$call says how to fix it");
}
is($node->safe_psql('postgres', 'SELECT 1 + 1'), '2', 'statements run');
$node->stop;
done_testing();
