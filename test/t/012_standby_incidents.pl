# A standby made by pg_basebackup copies the primary's incidents file: it
# must neither show the primary's incidents as its own nor issue their ids.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'guard'\nmax_parallel_workers_per_gather = 0\n");
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION guard;
	CREATE TABLE t(id int PRIMARY KEY, v int);
	INSERT INTO t SELECT g, g FROM generate_series(1, 20000) g;
	ANALYZE t;
});
$primary->safe_psql('postgres', 'SELECT v FROM t WHERE v > 0 LIMIT 0');
$primary->safe_psql('postgres', 'SELECT id, v FROM t WHERE v > 0 LIMIT 0');
my $file = 'pg_stat/guard_incidents.stat';
ok(-f $primary->data_dir . "/$file", 'the primary saved its incidents');
$primary->backup('backup');
ok(-f $primary->backup_dir . "/backup/$file", 'the base backup copied the file');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT count(*) FROM guard.incidents'), '0',
	'the primary\'s incidents do not appear as the standby\'s');
ok($standby->log_contains(qr/ignoring file "pg_stat\/guard_incidents.stat" copied by the base backup/),
	'the standby says why');

# both raise new incidents: no id in common
$standby->safe_psql('postgres', 'SELECT id, v, v FROM t WHERE v > 0 LIMIT 0');
$primary->safe_psql('postgres', 'SELECT id, v, v FROM t WHERE v > 0 LIMIT 0');
my $p_ids = $primary->safe_psql('postgres', q{SELECT string_agg(incident_id::text, ',') FROM guard.incidents});
my $s_id = $standby->safe_psql('postgres', q{SELECT incident_id FROM guard.incidents});
ok($s_id ne '' && !grep({ $_ eq $s_id } split(/,/, $p_ids)),
	"the standby's id $s_id is none of the primary's ($p_ids)");

# the standby keeps its own incidents and its epoch across restarts
$standby->restart;
is($standby->safe_psql('postgres', 'SELECT incident_id FROM guard.incidents'), $s_id,
	'the standby keeps its own incident across a restart');
$standby->safe_psql('postgres', 'SELECT id, id, v FROM t WHERE v > 0 LIMIT 0');
is($standby->safe_psql('postgres', q{SELECT max(incident_id) FROM guard.incidents}),
	$s_id + 1, 'and numbers on in its own epoch');

$standby->stop;
$primary->stop;
done_testing();
