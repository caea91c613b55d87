# pg_guard baseline export / import / diff against a real cluster:
# deterministic YAML that a YAML parser reads back, a byte-identical round
# trip, all-or-nothing import (every kind of bad input names its line and
# column and changes nothing), --replace, diff, exit statuses.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $bindir = `pg_config --bindir`;
chomp $bindir;
my $pg_guard = "$bindir/pg_guard";
ok(-x $pg_guard, 'pg_guard is installed next to the server programs');

my $node = PostgreSQL::Test::Cluster->new('cli');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'guard'
max_parallel_workers_per_gather = 0
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION guard;
	CREATE TABLE big(id int PRIMARY KEY, v int, note text);
	INSERT INTO big SELECT g, g, 'n' || g FROM generate_series(1, 50000) g;
	ANALYZE big;
	CREATE DATABASE other;
});
$node->safe_psql('other', 'CREATE EXTENSION guard');
$node->safe_psql('postgres', q{
	SELECT v FROM big WHERE id = 7;
	SELECT count(*) FROM big WHERE v > 10;
	SELECT count(*)
	  FROM big
	 WHERE note LIKE 'n1%';
	SELECT count(*) FROM big WHERE v < 3;
});
$node->safe_psql('postgres', q{
	SELECT guard.approve_observed(E'warm-up: "quoted", \\ and ünïcode');
	SELECT guard.reject(query_hash, plan_hash, E'two\nlines', now() + interval '30 days')
	  FROM guard.plans WHERE query LIKE '%v < $1%';
});
my $dir = PostgreSQL::Test::Utils::tempdir;

sub run_pg_guard
{
	my @args = @_;
	my ($out, $err);
	local %ENV = %ENV;
	$ENV{PGHOST} = $node->host;
	$ENV{PGPORT} = $node->port;
	my $ret = system_log_capture([ $pg_guard, @args ], \$out, \$err);
	return ($ret, $out, $err);
}

# a small wrapper of IPC::Run: exit status, stdout, stderr
sub system_log_capture
{
	my ($cmd, $out, $err) = @_;
	IPC::Run::run($cmd, '>', $out, '2>', $err);
	return $? >> 8;
}

my ($ret, $out, $err);
($ret, $out) = run_pg_guard('--version');
is($ret, 0, '--version exits 0');
like($out, qr/^pg_guard \(guard\) 0\.6$/m, 'and names the version');
($ret, $out) = run_pg_guard('--help');
is($ret, 0, '--help exits 0');
like($out, qr/baseline export/, 'and lists the commands');
($ret, undef, $err) = run_pg_guard('frobnicate');
is($ret, 2, 'an unknown command exits 2');
like($err, qr/unknown command "frobnicate"/, 'and says so');
($ret, undef, $err) = run_pg_guard('baseline', 'export', '-d', 'postgres', '-p', '1');
is($ret, 2, 'a connection failure exits 2');
like($err, qr/could not connect/, 'and says so');

# export: deterministic, parsed back by a YAML parser
my $a = "$dir/a.yaml";
($ret, undef, $err) = run_pg_guard('baseline', 'export', '-d', 'postgres', '-o', $a);
is($ret, 0, 'export exits 0') or diag $err;
($ret, $out) = run_pg_guard('baseline', 'export', '-d', 'postgres');
is($out, slurp_file($a), 'exporting twice gives the same bytes (stdout and -o)');
my $parsed = `python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); print(d["format"], d["version"], len(d["entries"]), sorted(set(e["status"] for e in d["entries"])), [e["seqscans"] for e in d["entries"] if e["status"] == "rejected"], [e["note"] for e in d["entries"] if e["status"] == "rejected"])' $a`;
my $n = $node->safe_psql('postgres', 'SELECT count(*) FROM guard.baseline');
is($parsed, "guard-baseline 1 $n ['approved', 'rejected'] [['public.big']] ['two\\nlines']\n",
	'a YAML parser reads format, version, every entry, statuses, seqscans and notes');
like(slurp_file($a), qr/^  plan: \|-\n    Aggregate\n      Seq Scan on public\.big\n  seqscans: \["public\.big"\]$/m,
	'a multi-line plan is a literal block, its seq scans listed');
like(slurp_file($a), qr/^  query: "SELECT count\(\*\)\\n\\t  FROM big\\n\\t WHERE note LIKE \$1"$/m,
	'a text a literal block cannot hold (tabs) is double-quoted');

# round trip through another database: byte-identical
($ret, undef, $err) = run_pg_guard('baseline', 'import', '-d', 'other', $a);
is($ret, 0, 'import exits 0') or diag $err;
like($err, qr/imported $n decisions/, 'and counts what it imported');
my $b = "$dir/b.yaml";
run_pg_guard('baseline', 'export', '-d', 'other', '-o', $b);
is(slurp_file($b), slurp_file($a), 'export -> import -> export is byte-identical');
is($node->safe_psql('other', q{SELECT status, note FROM guard.baseline WHERE status = 'rejected'}),
	"rejected|two\nlines", 'the rejection and its note arrived');

# bad input: an error naming the place, nothing imported
$node->safe_psql('other', q{INSERT INTO guard.baseline (query_hash, plan_hash, status, created_by)
	VALUES (1, 2, 'approved', 'x')});
my $before = $node->safe_psql('other',
	'SELECT md5(string_agg(query_hash || status || coalesce(note, \'\'), \',\' ORDER BY query_hash, plan_hash)) FROM guard.baseline');
my $good_entry = qq{  - query_hash: "11"\n    plan_hash: "12"\n    fingerprint_rules: 2\n    status: approved\n};
my %bad = (
	'malformed YAML' => [ qq{format: guard-baseline\nversion: 1\nentries:\n  - query_hash: "1\n}, qr/:\d+:\d+: /],
	'an unknown version' => [ qq{format: guard-baseline\nversion: 2\nentries: []\n}, qr/:2:10: unknown version 2/ ],
	'another format' => [ qq{format: something-else\nversion: 1\nentries: []\n}, qr/:1:9: format must be "guard-baseline"/ ],
	'a wrong type' => [ qq{format: guard-baseline\nversion: 1\nentries:\n  - query_hash: [1]\n    plan_hash: "2"\n    fingerprint_rules: 2\n    status: approved\n}, qr/:4:17: query_hash must be a string/ ],
	'a hash that is no integer' => [ qq{format: guard-baseline\nversion: 1\nentries:\n  - query_hash: "12x"\n    plan_hash: "2"\n    fingerprint_rules: 2\n    status: approved\n}, qr/:4:17: query_hash must be a 64-bit integer/ ],
	'a bad status' => [ qq{format: guard-baseline\nversion: 1\nentries:\n$good_entry  - query_hash: "1"\n    plan_hash: "2"\n    fingerprint_rules: 2\n    status: maybe\n}, qr/:11:13: status must be approved or rejected/ ],
	'a duplicate entry' => [ qq{format: guard-baseline\nversion: 1\nentries:\n$good_entry$good_entry}, qr/:8:5: duplicate entry: the same query_hash and plan_hash as the entry at line 4/ ],
	'a repeated key' => [ qq{format: guard-baseline\nversion: 1\nversion: 1\nentries: []\n}, qr/:3:1: key "version" appears twice/ ],
	'an unknown key' => [ qq{format: guard-baseline\nversion: 1\nentries:\n  - query_hash: "1"\n    plan_hash: "2"\n    fingerprint_rules: 2\n    status: approved\n    colour: red\n}, qr/:8:5: unknown key "colour"/ ],
	'a missing key' => [ qq{format: guard-baseline\nversion: 1\nentries:\n  - query_hash: "1"\n    plan_hash: "2"\n    status: approved\n}, qr/:4:5: missing key "fingerprint_rules"/ ],
	'an alias' => [ qq{format: guard-baseline\nversion: 1\nentries:\n  - &e\n    query_hash: "1"\n    plan_hash: "2"\n    fingerprint_rules: 2\n    status: approved\n  - *e\n}, qr/anchors and aliases are not allowed/ ],
	'a tag' => [ qq{format: guard-baseline\nversion: 1\nentries:\n  - query_hash: !!binary "MQ=="\n    plan_hash: "2"\n    fingerprint_rules: 2\n    status: approved\n}, qr/:4:17: tag .* is not allowed/ ],
	'an oversized note' => [ qq{format: guard-baseline\nversion: 1\nentries:\n  - query_hash: "1"\n    plan_hash: "2"\n    fingerprint_rules: 2\n    status: approved\n    note: "} . ('x' x 1100000) . qq{"\n}, qr/:8:11: note is too long/ ],
	'two documents' => [ qq{format: guard-baseline\nversion: 1\nentries: []\n---\nformat: guard-baseline\n}, qr/:5:1: a baseline file holds one YAML document/ ],
	'a value the server refuses' => [ qq{format: guard-baseline\nversion: 1\nentries:\n$good_entry  - query_hash: "3"\n    plan_hash: "4"\n    fingerprint_rules: 2\n    status: approved\n    created_at: "2026-13-45T00:00:00Z"\n}, qr/:8:5: the server refused the entry: date\/time field value out of range/ ],
);
for my $case (sort keys %bad)
{
	my $f = "$dir/bad.yaml";
	open(my $fh, '>', $f) or die;
	print $fh $bad{$case}[0];
	close $fh;
	($ret, undef, $err) = run_pg_guard('baseline', 'import', '-d', 'other', '--replace', $f);
	is($ret, 2, "$case: exit 2");
	like($err, $bad{$case}[1], "$case: the message names the problem and its place");
	like($err, qr/nothing was (read|imported)/, "$case: says nothing was imported");
	is($node->safe_psql('other',
		'SELECT md5(string_agg(query_hash || status || coalesce(note, \'\'), \',\' ORDER BY query_hash, plan_hash)) FROM guard.baseline'),
		$before, "$case: guard.baseline unchanged");
}
($ret, undef, $err) = run_pg_guard('baseline', 'import', '-d', 'other', "$dir/missing.yaml");
is($ret, 2, 'a missing file exits 2');
like($err, qr/missing.yaml:1:1: could not open the file: No such file or directory\n.*nothing was read/, 'and says so');

# --replace: the table becomes exactly the file
($ret, undef, $err) = run_pg_guard('baseline', 'import', '-d', 'other', '--replace', $a);
is($ret, 0, 'import --replace exits 0') or diag $err;
is($node->safe_psql('other', 'SELECT count(*) FROM guard.baseline WHERE query_hash = 1'), '0',
	'--replace deleted the decision the file does not hold');
run_pg_guard('baseline', 'export', '-d', 'other', '-o', $b);
is(slurp_file($b), slurp_file($a), 'and the table is the file');

# diff: what a change approves, rejects, drops
($ret, $out) = run_pg_guard('diff', $a, $b);
is($ret, 0, 'diff of identical files exits 0');
is($out, '', 'and prints nothing');
$node->safe_psql('other', q{
	SELECT guard.forget(query_hash, plan_hash) FROM guard.baseline WHERE query LIKE '%id = $1%';
	UPDATE guard.baseline SET status = 'approved', expires_at = NULL WHERE status = 'rejected';
	INSERT INTO guard.baseline (query_hash, plan_hash, status, created_by, fingerprint_rules, query)
	VALUES (5, 6, 'rejected', 'x', 2, 'SELECT 5');
});
run_pg_guard('baseline', 'export', '-d', 'other', '-o', $b);
($ret, $out) = run_pg_guard('diff', $a, $b);
is($ret, 1, 'diff with changes exits 1');
like($out, qr/^rejects\s+5 6  SELECT 5$/m, 'a new rejection');
like($out, qr/^approves\s+-?\d+ -?\d+  SELECT count\(\*\) FROM big WHERE v < \$1  \(was rejected\)$/m,
	'a rejection turned approval');
like($out, qr/^drops\s+-?\d+ -?\d+  SELECT v FROM big WHERE id = \$1  approved$/m, 'a dropped approval');
($ret, undef, $err) = run_pg_guard('diff', $a);
is($ret, 2, 'diff with one file is a usage error');

# found by review: texts and times that must come back as they were
$node->safe_psql('other', q{
	TRUNCATE guard.baseline;
	INSERT INTO guard.baseline (query_hash, plan_hash, status, created_by, created_at, expires_at,
	                            fingerprint_rules, query_role, note, query)
	VALUES (21, 22, 'rejected', 'x', '0044-03-15 12:00:00+00 BC', '-infinity', 2, 'app', repeat('n', 9000), 'SELECT 21'),
	       (23, 24, 'approved', 'x', 'infinity', NULL, 2, NULL, 'café ☕', E'SELECT 23 -- \x1b[2K'),
	       (25, 26, 'approved', 'x', '2026-01-02 03:04:05+00', NULL, 2, NULL, NULL, 'SELECT 25');
});
my $c = "$dir/c.yaml";
($ret, undef, $err) = run_pg_guard('baseline', 'export', '-d', 'other', '-o', $c);
is($ret, 0, 'export of BC, infinite times, a 9 kB note') or diag $err;
like(slurp_file($c), qr/created_at: "0044-03-15T12:00:00\.000000Z BC"\n  expires_at: "-infinity"/,
	'a BC time and -infinity are written as such');
{
	local $ENV{PGCLIENTENCODING} = 'LATIN1';
	local $ENV{PGTZ} = 'America/New_York';
	local $ENV{PGDATESTYLE} = 'SQL, DMY';
	($ret, undef, $err) = run_pg_guard('baseline', 'import', '-d', 'other', '--replace', $c);
	is($ret, 0, 'import under another client encoding, time zone and date style') or diag $err;
	my $c2 = "$dir/c2.yaml";
	($ret, undef, $err) = run_pg_guard('baseline', 'export', '-d', 'other', '-o', $c2);
	is(slurp_file($c2), slurp_file($c), 'and the round trip is byte-identical');
}
is($node->safe_psql('other', q{SELECT note FROM guard.baseline WHERE query_hash = 23}), 'café ☕',
	'non-ASCII text is stored as it was');
my $hand = "$dir/hand.yaml";
open(my $hf, '>', $hand) or die;
print $hf qq{format: guard-baseline\nversion: 1\nentries:\n  - query_hash: "31"\n    plan_hash: "32"\n    fingerprint_rules: 2\n    status: approved\n    created_at: "2026-01-02 03:04:05"\n};
close $hf;
{
	local $ENV{PGTZ} = 'Asia/Tokyo';
	($ret, undef, $err) = run_pg_guard('baseline', 'import', '-d', 'other', $hand);
	is($ret, 0, 'a time without zone imports') or diag $err;
}
is($node->safe_psql('other', q{SELECT created_at AT TIME ZONE 'UTC' FROM guard.baseline WHERE query_hash = 31}),
	'2026-01-02 03:04:05', 'as UTC, whatever the importing environment');
for my $t ('tomorrow', '01/02/2027', '2027-01-01 10:00:00 Europe/Paris')
{
	open($hf, '>', $hand) or die;
	print $hf qq{format: guard-baseline\nversion: 1\nentries:\n  - query_hash: "31"\n    plan_hash: "32"\n    fingerprint_rules: 2\n    status: approved\n    expires_at: "$t"\n};
	close $hf;
	($ret, undef, $err) = run_pg_guard('baseline', 'import', '-d', 'other', $hand);
	is($ret, 2, "the time \"$t\" is refused");
	like($err, qr/:8:17: expires_at must be a time written YYYY-MM-DD/, "$t: with its place");
}
# nesting and non-regular files are refused before they cost anything
open($hf, '>', $hand) or die;
print $hf "format: guard-baseline\nversion: 1\nentries: " . ('[' x 50000) . (']' x 50000) . "\n";
close $hf;
($ret, undef, $err) = run_pg_guard('baseline', 'import', '-d', 'other', $hand);
is($ret, 2, 'deep nesting is refused');
like($err, qr/:3:\d+: nested too deep/, 'and says so');
($ret, undef, $err) = run_pg_guard('baseline', 'import', '-d', 'other', '/dev/zero');
is($ret, 2, 'a device is refused');
like($err, qr/not a regular file/, 'as not a regular file');
# diff names every changed field, and writes control characters as \xNN
my $d1 = "$dir/d1.yaml";
my $d2 = "$dir/d2.yaml";
run_pg_guard('baseline', 'export', '-d', 'other', '-o', $d1);
$node->safe_psql('other', q{UPDATE guard.baseline SET query_role = 'postgres', created_by = 'y' WHERE query_hash = 23});
run_pg_guard('baseline', 'export', '-d', 'other', '-o', $d2);
($ret, $out) = run_pg_guard('diff', $d1, $d2);
is($ret, 1, 'a changed query_role is a change');
is($out, "changes   23 24  SELECT 23 -- \\x1b[2K  (query_role, created_by)\n",
	'diff names the fields and escapes the control character');
# in block mode, guard's own tables are read whole without a block
$node->safe_psql('other', q{
	INSERT INTO guard.baseline (query_hash, plan_hash, status, created_by, fingerprint_rules)
	SELECT g, g, 'approved', 'x', 2 FROM generate_series(1000, 21000) g;
	ANALYZE guard.baseline;
	ALTER DATABASE other SET guard.mode = block;
});
($ret, undef, $err) = run_pg_guard('baseline', 'export', '-d', 'other', '-o', $d2);
is($ret, 0, 'export of 20 000 decisions in block mode') or diag $err;
($ret, undef, $err) = run_pg_guard('baseline', 'import', '-d', 'other', '--replace', $d1);
is($ret, 0, 'import --replace in block mode') or diag $err;
$node->safe_psql('other', q{ALTER DATABASE other RESET guard.mode});

# an extension older than 0.5 is refused with the reason
$node->safe_psql('postgres', q{CREATE DATABASE old; });
$node->safe_psql('old', q{CREATE EXTENSION guard VERSION '0.4'});
($ret, undef, $err) = run_pg_guard('baseline', 'export', '-d', 'old');
is($ret, 2, 'export from a 0.4 database exits 2');
like($err, qr/guard is at version 0\.4 .* needs 0\.5 or later/, 'and says why');

$node->stop;
done_testing();
