# Fingerprints are portable: the same statements and plans in a database
# restored from pg_dump into another cluster give identical hashes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = PostgreSQL::Test::Cluster->new('source');
$src->init;
$src->append_conf('postgresql.conf', "shared_preload_libraries = 'guard'\n");
$src->start;

# objects with dropped columns and an out-of-order history, so that OIDs
# and attnums differ after the restore
$src->safe_psql('postgres', q{
	CREATE DATABASE app;
});
$src->safe_psql('app', q{
	CREATE EXTENSION guard;
	CREATE TABLE junk(a int);
	CREATE TABLE notifications(dropme int, id bigint PRIMARY KEY, user_id int,
		is_read bool, is_mention bool, created_at timestamptz, body text);
	ALTER TABLE notifications DROP COLUMN dropme;
	CREATE INDEX notifications_user_created ON notifications(user_id, created_at);
	DROP TABLE junk;
	INSERT INTO notifications
	  SELECT g, g % 1000, g % 3 = 0, g % 7 = 0, now(), 'b'
	    FROM generate_series(1, 50000) g;
	VACUUM ANALYZE notifications;
});

my @statements = (
	q{SELECT * FROM notifications WHERE user_id = 42 AND (is_read = false OR is_mention = true) ORDER BY created_at DESC LIMIT 50},
	q{SELECT * FROM notifications WHERE user_id = 42 AND is_read = false OR is_mention = true ORDER BY created_at DESC LIMIT 50},
	q{UPDATE notifications SET is_read = true WHERE user_id = 3},
);
my $sql = join(' UNION ALL ',
	map { "SELECT $_ AS n, query_hash, plan_hash, plan FROM guard.explain(\$q\$$statements[$_]\$q\$)" }
	  0 .. $#statements) . ' ORDER BY n';
my $hashes = $src->safe_psql('app', "SET max_parallel_workers_per_gather = 0; $sql");

my $dump = $PostgreSQL::Test::Utils::tmp_check . '/app.dump';
$src->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $src->connstr('app') ], 'pg_dump');

my $dst = PostgreSQL::Test::Cluster->new('restored');
$dst->init;
$dst->append_conf('postgresql.conf', "shared_preload_libraries = 'guard'\n");
$dst->start;
# shift the OID counter so that no OID can match by accident
$dst->safe_psql('postgres', 'CREATE DATABASE other; CREATE TABLE pad(a int); DROP TABLE pad;');
$dst->safe_psql('postgres', 'CREATE DATABASE restored');
$dst->command_ok([ 'pg_restore', '-d', $dst->connstr('restored'), $dump ], 'pg_restore');
$dst->safe_psql('restored', 'VACUUM ANALYZE notifications');

isnt($src->safe_psql('app', q{SELECT 'notifications'::regclass::oid}),
	$dst->safe_psql('restored', q{SELECT 'notifications'::regclass::oid}),
	'the restored table has another OID');
is($dst->safe_psql('restored', "SET max_parallel_workers_per_gather = 0; $sql"), $hashes,
	'identical query_hash, plan_hash and shape after pg_dump/restore');

# and what execution records matches guard.explain on both sides
$src->safe_psql('app', "SET max_parallel_workers_per_gather = 0; $statements[0]");
$dst->safe_psql('restored', "SET max_parallel_workers_per_gather = 0; $statements[0]");
my $rec = q{SELECT query_hash, plan_hash FROM guard.plans WHERE query LIKE '%(is_read = $2 OR is_mention = $3)%'};
is($dst->safe_psql('restored', $rec), $src->safe_psql('app', $rec),
	'the observed plans carry the same fingerprints');

$src->stop;
$dst->stop;
done_testing();
