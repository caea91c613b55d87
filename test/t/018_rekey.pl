# Moving from fingerprint rules 1 to 2: decisions filed under rules-1
# hashes are not applied by a rules-2 server.  Until guard.rekey() carries
# them, block mode downgrades its blocks of undecided plans to warnings
# (a rejection made under rules 1 is not known either: the rejected
# statement runs with the warning); guard.rekey() carries the decisions
# whose plans are unchanged and reports the others.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('rekey');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'guard'
max_parallel_workers_per_gather = 0
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION guard;
	CREATE TABLE big(id int PRIMARY KEY, v int, w int);
	INSERT INTO big SELECT g, g, g FROM generate_series(1, 100000) g;
	CREATE INDEX big_w ON big(w);
	ANALYZE big;
});
my $point = 'SELECT v FROM big WHERE id = 42';
my $report = 'SELECT count(*) FROM big WHERE v > 10';
my $byw = 'SELECT v FROM big WHERE w = 42';
my $rejected = 'SELECT count(*) FROM big WHERE v < 10';
$node->safe_psql('postgres', "$point; $report; $byw;");
$node->safe_psql('postgres', q{SELECT guard.approve_observed('warm-up')});
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM guard.baseline WHERE query LIKE '%FROM big WHERE%'}), '3',
	'rules 1: three plans approved');
$node->safe_psql('postgres', $rejected);
$node->safe_psql('postgres', q{
	SELECT guard.reject(query_hash, plan_hash, 'no') FROM guard.plans
	 WHERE query LIKE '%v < $1%'});
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM guard.baseline WHERE fingerprint_rules = 1
	   AND query LIKE '%FROM big WHERE%'}),
	'4', 'decisions record rules 1');

# rules 2, block mode
$node->append_conf('postgresql.conf', qq{
guard.fingerprint_rules = 2
guard.mode = block
});
$node->restart;
my ($ret, $out, $err) = $node->psql('postgres', $report);
is($ret, 0, 'the approved report is not blocked');
like($err, qr/not blocked because decisions made under other fingerprint rules/, 'a warning');
like($err, qr/guard\.rekey\(\)/, 'with the rekey hint');
($ret, $out, $err) = $node->psql('postgres', $point);
is($ret, 0, 'the approved index plan runs');
($ret, $out, $err) = $node->psql('postgres', $rejected);
is($ret, 0, 'a rejection under rules 1 is not applied before rekey');
like($err, qr/guard\.rekey\(\)/, 'the rejected statement runs with the warning');

# the index of one statement goes away before rekey
$node->safe_psql('postgres', 'DROP INDEX big_w');
my $rekey = q{SELECT query, status, carried, coalesce(reason, '-'), new_plan_hash IS NOT NULL
	FROM guard.rekey() WHERE query LIKE '%FROM big WHERE%' ORDER BY query};
my $expected = join("\n",
	'SELECT count(*) FROM big WHERE v < $1|rejected|t|-|t',
	'SELECT count(*) FROM big WHERE v > $1|approved|t|-|t',
	'SELECT v FROM big WHERE id = $1|approved|t|-|t',
	'SELECT v FROM big WHERE w = $1|approved|f|plan changed|t');
is($node->safe_psql('postgres', $rekey), $expected, 'rekey carries the unchanged plans');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM guard.baseline WHERE fingerprint_rules = 2
	   AND query LIKE '%FROM big WHERE%'}),
	'3', 'three decisions filed under rules 2, old rows kept');
is($node->safe_psql('postgres', $rekey), $expected, 'a second rekey is idempotent');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM guard.baseline WHERE fingerprint_rules = 2
	   AND query LIKE '%FROM big WHERE%'}),
	'3', 'and writes nothing');

# the decision not carried still downgrades: forget it, then block mode is back
($ret, $out, $err) = $node->psql('postgres', $report);
is($ret, 0, 'approved report runs');
($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM big WHERE w > 5');
is($ret, 0, 'while a decision is not carried, a new seq scan is only warned about');
like($err, qr/guard\.rekey\(\)/, 'with the hint');
$node->safe_psql('postgres', q{
	DELETE FROM guard.baseline WHERE (query_hash, plan_hash) IN
	  (SELECT old_query_hash, old_plan_hash FROM guard.rekey() WHERE NOT carried)});

TODO:
{
	# a statement sent with literals jumbles differently from its stored
	# text with $n: rekey files the decision under the $n hash only (the
	# literal hash needs the store's aliases, as review.c's decision_aliases)
	local $TODO = 'rekey does not yet carry to the literal-value query_hash';
	($ret, $out, $err) = $node->psql('postgres', $report);
	is($ret, 0, 'after rekey the approved report runs');
	unlike($err, qr/WARNING/, 'without a warning');
	($ret, $out, $err) = $node->psql('postgres', $point);
	is($ret, 0, 'the approved index plan runs');
	unlike($err, qr/WARNING/, 'without a warning');
	($ret, $out, $err) = $node->psql('postgres', $rejected);
	isnt($ret, 0, 'the rejected plan is refused');
	like($err, qr/rejected/, 'as rejected');
	($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM big WHERE w > 7');
	isnt($ret, 0, 'a new seq scan is blocked');
	like($err, qr/guard blocked a plan that sequentially scans public\.big/, 'by block mode');
}

$node->stop;
done_testing();
