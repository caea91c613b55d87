# The statistics profile, end to end (doc/statistics-profile.md, doc/ci.md):
# production exports its baseline and its profile; staging, created from the
# same migrations with a handful of rows, cannot see the lost parentheses on
# its own, and sees them under production's profile.  The profile file is
# read by a YAML parser and is byte-identical from run to run; bad files are
# refused with the line and column, changing nothing; pg_guard check
# --stats/--growth plans SQL files under the profile; a rewritten condition
# is tied to the approved statement it replaced.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $bindir = `pg_config --bindir`;
chomp $bindir;
my $pg_guard = "$bindir/pg_guard";

my $node = PostgreSQL::Test::Cluster->new('profile');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'guard'
max_parallel_workers_per_gather = 0
});
$node->start;

# the application's migrations, run in production and in staging
my $migrations = q{
	CREATE EXTENSION guard;
	CREATE TABLE notifications(id int PRIMARY KEY, user_id int, is_read bool,
	                           is_mention bool, body text);
	CREATE INDEX notifications_user ON notifications(user_id);
	CREATE TABLE users(id int PRIMARY KEY, name text);
	CREATE TABLE events(id int, at date) PARTITION BY RANGE (at);
	CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
};
for my $db ('prod', 'staging')
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, $migrations);
}
$node->safe_psql('prod', q{
	INSERT INTO notifications
	SELECT g, g % 2000, g % 3 = 0, g % 50 = 0, 'n' || g FROM generate_series(1, 60000) g;
	INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 2000) g;
	INSERT INTO events SELECT g, date '2026-01-01' + g % 300 FROM generate_series(1, 30000) g;
	VACUUM ANALYZE;
	SELECT guard.reset();
});
# staging: a few rows, as fixtures leave them
$node->safe_psql('staging', q{
	INSERT INTO notifications
	SELECT g, g % 5, g % 3 = 0, g % 50 = 0, 'n' || g FROM generate_series(1, 40) g;
	INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 5) g;
	VACUUM ANALYZE;
	SELECT guard.reset();
});
my $dir = PostgreSQL::Test::Utils::tempdir;

sub run_pg_guard
{
	my ($db, @args) = @_;
	my ($out, $err);
	local %ENV = %ENV;
	$ENV{PGHOST} = $node->host;
	$ENV{PGPORT} = $node->port;
	$ENV{PGDATABASE} = $db;
	IPC::Run::run([ $pg_guard, @args ], '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my $good = 'SELECT id FROM notifications WHERE user_id = 5 AND (is_read = false OR is_mention = true)';
my $lost = 'SELECT id FROM notifications WHERE user_id = 5 AND is_read = false OR is_mention = true';
my $rewritten = 'SELECT id FROM notifications WHERE is_mention = true OR is_read = false AND user_id = 5';

# production: release 1's plans are the baseline; its statistics the profile
$node->safe_psql('prod', qq{$good; SELECT name FROM users WHERE id = 3;});
$node->safe_psql('prod', q{SELECT guard.approve_observed('release 1')});
my ($ret, $out, $err) = run_pg_guard('prod', 'baseline', 'export', '-o', "$dir/baseline.yaml");
is($ret, 0, 'the baseline is exported') or diag $err;
($ret, $out, $err) = run_pg_guard('prod', 'stats', 'export', '-n', 'public', '-o', "$dir/stats.yaml");
is($ret, 0, 'the profile is exported') or diag $err;
like($err, qr/exported 7 relations/, 'tables, a partitioned table and indexes of the schema: 7 relations');
($ret, $out, $err) = run_pg_guard('prod', 'stats', 'export', '-n', 'public', '-o', "$dir/stats2.yaml");
my $strip = sub {
	my $f = shift;
	my $t = do { local (@ARGV, $/) = $f; <> };
	$t =~ s/^exported_at: .*$//m;
	return $t;
};
is($strip->("$dir/stats2.yaml"), $strip->("$dir/stats.yaml"),
	'the same statistics give a byte-identical file, but for exported_at');

# a schema that does not exist is an error, not an empty profile
($ret, $out, $err) = run_pg_guard('prod', 'stats', 'export', '-n', 'Public', '-o', "$dir/none.yaml");
is($ret, 2, 'export -n of a schema that does not exist: exit 2');
like($err, qr/schema "Public" does not exist in database "prod"/, 'it names the schema');

# production's data values can stay in production
($ret, $out, $err) = run_pg_guard('prod', 'stats', 'export', '-n', 'public', '--no-values-for', 'public.users',
	'--no-values-for', 'public.notifications.body', '-o', "$dir/novalues.yaml");
is($ret, 0, 'export --no-values-for') or diag $err;
is(sprintf('%04o', (stat "$dir/novalues.yaml")[2] & 07777), '0600', 'the file is readable by its owner only');
my $novalues = `python3 -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
r = {x["name"]: x for x in d["relations"]}
c = {x["name"]: x for x in r["notifications"]["columns"]}
u = {x["name"]: x for x in r["users"]["columns"]}
print(c["body"]["histogram_bounds"], c["body"]["n_distinct"], c["user_id"]["histogram_bounds"] is not None,
      u["name"]["histogram_bounds"], u["id"]["histogram_bounds"], u["id"]["null_frac"])
' $dir/novalues.yaml`;
is($novalues, "None -1 True None None 0\n", 'the named table and column lose their values, nothing else');

my $parsed = `python3 -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
r = {x["name"]: x for x in d["relations"]}
n = r["notifications"]
c = {x["name"]: x for x in n["columns"]}
e = r["events"]
print(d["format"], d["version"], d["source"], sorted(r), n["kind"], n["reltuples"], n["relpages"] > 100,
      c["user_id"]["type"], c["user_id"]["n_distinct"], c["is_read"]["most_common_vals"],
      r["notifications_user"]["kind"], r["notifications_user"]["tree_height"],
      e["kind"], e["relpages"], sorted((x["name"], x["inherited"]) for x in e["columns"]))
' $dir/stats.yaml`;
is($parsed, "guard-stats 1 prod ['events', 'events_2026', 'notifications', 'notifications_pkey', 'notifications_user', 'users', 'users_pkey'] r 60000 True pg_catalog.int4 2000 {f,t} i 1 p 0 [('at', True), ('id', True)]\n",
	'a YAML parser reads the profile: sizes, column statistics, a btree\'s height, a partitioned table\'s inherited statistics');

# staging on its own: the lost parentheses pass unseen (40 rows)
$node->safe_psql('staging', qq{$lost; SELECT name FROM users WHERE id = 3;});
($ret, $out, $err) = run_pg_guard('staging', 'check', '--baseline', "$dir/baseline.yaml");
is($ret, 0, 'without the profile, staging cannot see the regression (exit 0)') or diag "$out\n$err";
unlike($out, qr/planned under the statistics profile/, 'and says no profile was used');

# bad profiles: refused with the place, nothing imported
my $count = sub {
	$node->safe_psql('staging', 'SELECT (SELECT count(*) FROM guard.stats_relations) || \'/\' || (SELECT count(*) FROM guard.stats_columns)');
};
my $ok = do { local (@ARGV, $/) = "$dir/stats.yaml"; <> };
my @bad = (
	[ 'malformed', "format: guard-stats\nversion: 1\nrelations: [\n", qr/bad\.yaml:4:1: did not find expected node content/ ],
	[ 'unknown version', "format: guard-stats\nversion: 2\nrelations: []\n", qr/bad\.yaml:2:10: unknown version 2/ ],
	[ 'another format', "format: guard-baseline\nversion: 1\nrelations: []\n", qr/bad\.yaml:1:9: format must be "guard-stats"/ ],
	[ 'a wrong type', "format: guard-stats\nversion: 1\nrelations:\n- schema: public\n  name: t\n  kind: r\n  reltuples: many\n  relpages: 1\n",
		qr/bad\.yaml:7:14: reltuples must be a number/ ],
	[ 'an unknown key', "format: guard-stats\nversion: 1\nrelations:\n- schema: public\n  name: t\n  kind: r\n  reltuples: 1\n  relpages: 1\n  rows: 5\n",
		qr/bad\.yaml:9:3: unknown key "rows"/ ],
	[ 'a duplicate relation', "format: guard-stats\nversion: 1\nrelations:\n- {schema: public, name: t, kind: r, reltuples: 1, relpages: 1}\n- {schema: public, name: t, kind: r, reltuples: 2, relpages: 1}\n",
		qr/bad\.yaml:5:3: duplicate relation: the same schema and name as the relation at line 4/ ],
	[ 'a duplicate column', "format: guard-stats\nversion: 1\nrelations:\n- schema: public\n  name: users\n  kind: r\n  reltuples: 1\n  relpages: 1\n  columns:\n  - {name: id, inherited: false, type: pg_catalog.int4}\n  - {name: id, inherited: false, type: pg_catalog.int4}\n",
		qr/bad\.yaml:11:5: duplicate column: the same name and inherited as the column at line 10/ ],
	[ 'a value the server refuses', "format: guard-stats\nversion: 1\nrelations:\n- schema: public\n  name: users\n  kind: r\n  reltuples: 1\n  relpages: 1\n  columns:\n  - {name: id, inherited: false, type: pg_catalog.int4, histogram_bounds: '{1,two}'}\n",
		qr/bad\.yaml:10:5: the server refused the column: invalid input syntax for type integer: "two"\n.*context: statistics of column public\.users\.id in the statistics profile/s ],
	[ 'an infinite size', "format: guard-stats\nversion: 1\nrelations:\n- {schema: public, name: t, kind: r, reltuples: inf, relpages: 1}\n",
		qr/bad\.yaml:4:49: reltuples must be a number/ ],
	[ 'a name too long', "format: guard-stats\nversion: 1\nrelations:\n- {schema: public, name: ${\ ('t' x 64)}, kind: r, reltuples: 1, relpages: 1}\n",
		qr/bad\.yaml:4:26: name is longer than a PostgreSQL name \(63 bytes\)/ ],
	[ 'a negative size', "format: guard-stats\nversion: 1\nrelations:\n- {schema: public, name: t, kind: r, reltuples: -5, relpages: 1}\n",
		qr/bad\.yaml:4:3: the server refused the relation: new row for relation "stats_relations" violates check constraint/ ],
	[ 'anchors', "format: guard-stats\nversion: 1\nrelations:\n- &a {schema: public, name: t, kind: r, reltuples: 1, relpages: 1}\n- *a\n",
		qr/bad\.yaml:4:3: anchors and aliases are not allowed/ ],
);
($ret, $out, $err) = run_pg_guard('staging', 'stats', 'import', "$dir/stats.yaml");
is($ret, 0, 'a good profile imports') or diag $err;
like($err, qr/imported the statistics of 7 relations and \d+ columns/, 'and says what it imported');
my $before = $count->();
for my $case (@bad)
{
	my ($what, $text, $msg) = @$case;
	open my $fh, '>', "$dir/bad.yaml" or die;
	print $fh $text;
	close $fh;
	($ret, $out, $err) = run_pg_guard('staging', 'stats', 'import', "$dir/bad.yaml");
	is($ret, 2, "$what: exit 2");
	like($err, $msg, "$what: the error names the problem and where") or diag $err;
	like($err, qr/nothing was (read|imported)/, "$what: says nothing changed");
	is($count->(), $before, "$what: the profile in the database is unchanged");
}

# a non-superuser can neither export nor import one
$node->safe_psql('prod', 'CREATE ROLE app LOGIN');
$node->safe_psql('staging', 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO app');
($ret, $out, $err) = run_pg_guard('prod', 'stats', 'export', '-U', 'app');
is($ret, 2, 'export as an application role: exit 2');
like($err, qr/reading column statistics needs a superuser \(pg_catalog\.pg_statistic\); connected as "app"/, 'it says why');
($ret, $out, $err) = run_pg_guard('staging', 'stats', 'import', '-U', 'app', "$dir/stats.yaml");
is($ret, 2, 'import as an application role: exit 2');
like($err, qr/importing a statistics profile needs a superuser; connected as "app"/, 'it says why');

# staging under production's profile: the application's test suite runs
# in sessions that inherit the database's setting (--enable)
($ret, $out, $err) = run_pg_guard('staging', 'stats', 'import', "$dir/stats.yaml", '--enable');
is($ret, 0, 'import --enable') or diag $err;
is($node->safe_psql('staging', 'SHOW guard.stats_profile'), 'on', 'new sessions plan under the profile');
like($node->safe_psql('staging', "EXPLAIN (COSTS OFF) $good"),
	qr/Guard Statistics Profile: prod, exported \d{4}-\d\d-\d\d/, 'EXPLAIN says so');
is($node->safe_psql('staging', q{SELECT seqscan_rows[1] FROM guard.explain('SELECT * FROM events')}),
	'30000', 'a partition is read at production\'s size');
# a table created under a profiled name after the import is not production's
$node->safe_psql('staging', q{DROP TABLE users CASCADE; CREATE TABLE users(id int PRIMARY KEY, name text);});
like($node->safe_psql('staging', q{SELECT reason FROM guard.stats_profile_fallbacks WHERE relname = 'users' AND attname IS NULL}),
	qr/created after the import/, 'a table recreated after the import keeps its own statistics, and is listed');
$node->safe_psql('staging', q{INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 5) g; ANALYZE users;});
($ret, $out, $err) = run_pg_guard('staging', 'stats', 'import', "$dir/stats.yaml", '--enable');
is($ret, 0, 'imported again, it is production\'s again') or diag $err;

# the plans observed before the import were made at staging's size: a
# check under the profile refuses to judge them
($ret, $out, $err) = run_pg_guard('staging', 'check', '--baseline', "$dir/baseline.yaml");
is($ret, 2, 'plans observed without the profile: exit 2, never a false pass') or diag "$out\n$err";
like($err, qr/observed plans were made without the statistics profile, at staging's own size/,
	'it says why, and what to do');

# release 1 passes; statements that read no profiled table (a health
# check, a table the release adds) were planned under the profile too
$node->safe_psql('staging', q{SELECT guard.reset()});
$node->safe_psql('staging', qq{$good; SELECT name FROM users WHERE id = 3;});
$node->safe_psql('staging', q{SELECT now(); CREATE TABLE release_log(id int); SELECT count(*) FROM release_log;});
($ret, $out, $err) = run_pg_guard('staging', 'check', '--baseline', "$dir/baseline.yaml");
is($ret, 0, 'release 1 passes under the profile') or diag "$out\n$err";
like($out, qr/4 statements: 2 unchanged, 0 changed, 2 new, 0 regressions$/m, 'same plans as production');
is($node->safe_psql('staging', q{SELECT bool_and(stats_profile) FROM guard.plans WHERE query LIKE '%FROM notifications%'}),
	't', 'guard.plans says the plans were made under the profile');
like($out, qr/^planned under the statistics profile prod, exported \d{4}-\d\d-\d\d \d\d:\d\d UTC; 1 keep this database's own statistics:\n  relation public\.release_log: not in the profile$/m,
	'the report names the profile, and the table it does not describe');
$node->safe_psql('staging', 'DROP TABLE release_log');

# release 2 fails: the lost parentheses, seen at production's size
$node->safe_psql('staging', q{SELECT guard.reset()});
$node->safe_psql('staging', qq{$lost; SELECT name FROM users WHERE id = 3;});
($ret, $out, $err) = run_pg_guard('staging', 'check', '--baseline', "$dir/baseline.yaml");
is($ret, 1, 'the lost parentheses fail the check under the profile (exit 1)') or diag "$out\n$err";
like($out, qr/why: a statement new to the baseline reads public\.notifications \(about 60000 rows\) sequentially; it differs from an approved statement only in parentheses/,
	'at production\'s size, tied to the approved statement');

# a fallback: a table the profile does not know is listed
$node->safe_psql('staging', 'CREATE TABLE audit(id int)');
($ret, $out, $err) = run_pg_guard('staging', 'check', '--baseline', "$dir/baseline.yaml", '--format', 'json', '-o', "$dir/r.json");
is($ret, 1, 'json: exit 1');
my $json = `python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); p = d["stats_profile"]; print(p["source"].split(",")[0], [(f["kind"], f["name"], f["reason"]) for f in p["fallbacks"]])' $dir/r.json`;
is($json, "prod [('relation', 'public.audit', 'not in the profile')]\n", 'json: the profile and its fallbacks, read by a JSON parser');
($ret, undef, $err) = run_pg_guard('staging', 'check', '--baseline', "$dir/baseline.yaml", '--format', 'junit', '-o', "$dir/r.xml");
my $xml = `python3 -c 'import sys, xml.etree.ElementTree as E; s = E.parse(sys.argv[1]).getroot().find("testsuite"); print([p.get("value").split(",")[0] for p in s.find("properties")])' $dir/r.xml`;
is($xml, "['prod', 'relation public.audit: not in the profile']\n", 'junit: properties, read by an XML parser');

# a condition rewritten around the same columns: tied to what it replaced
$node->safe_psql('staging', q{SELECT guard.reset()});
$node->safe_psql('staging', $rewritten);
($ret, $out, $err) = run_pg_guard('staging', 'check', '--baseline', "$dir/baseline.yaml");
is($ret, 1, 'a rewritten condition that seq-scans: exit 1');
like($out, qr/it uses the same relations and columns as an approved statement \(query_hash -?\d+\), which it most likely replaced/,
	'it names the approved statement it most likely replaced');

# check --stats --growth: SQL files planned under the profile at 10x
$node->safe_psql('staging', q{ALTER DATABASE staging RESET guard.stats_profile; SELECT guard.reset();});
open my $sql, '>', "$dir/release2.sql" or die;
print $sql "-- release 2\n$lost;\n";
close $sql;
($ret, $out, $err) = run_pg_guard('staging', 'check', '--baseline', "$dir/baseline.yaml", "$dir/release2.sql");
is($ret, 0, 'without --stats the SQL file plans at staging\'s size: exit 0') or diag "$out\n$err";
($ret, $out, $err) = run_pg_guard('staging', 'check', '--baseline', "$dir/baseline.yaml",
	'--stats', "$dir/stats.yaml", '--growth', '10', "$dir/release2.sql");
is($ret, 1, 'check --stats --growth 10: exit 1') or diag "$out\n$err";
like($out, qr/where: .*release2\.sql:2\n  why: a statement new to the baseline reads public\.notifications \(about 600000 rows\)/,
	'the file and line, at ten times production\'s size');
like($out, qr/^planned under the statistics profile prod, exported \d{4}-\d\d-\d\d \d\d:\d\d UTC, growth 10;/m, 'the report names the growth');
($ret, $out, $err) = run_pg_guard('staging', 'check', '--baseline', "$dir/baseline.yaml", '--growth', '10');
is($ret, 2, '--growth without --stats: exit 2');
like($err, qr/--growth applies to the profile given with --stats FILE/, 'usage error');
($ret, $out, $err) = run_pg_guard('staging', 'stats', 'import', "$dir/stats.yaml", '--growth', '0');
is($ret, 2, '--growth 0: exit 2');
like($err, qr/--growth must be a number greater than 0/, 'usage error');

$node->stop;
done_testing();
