# Moving from fingerprint rules 1 to 2 loses no decision.  A 0.3 database
# with decisions made under rules 1 is updated (ALTER EXTENSION guard
# UPDATE) and the server restarted with guard.fingerprint_rules = 2 and
# guard.mode = block:
#  - before anything else, every decision still applies: the judge matches a
#    decision made under other rules by its statement text (up to $n
#    numbering: literal values and prepared forms alike) and plan shape;
#  - a plan that is new, or changed, is blocked as before;
#  - a decision without texts cannot be matched: while one remains, blocks
#    are downgraded to warnings that say why, and guard.rekey() lists it;
#  - guard.rekey() files the decisions under the new hashes, reports the
#    ones whose plan changed, and is idempotent.
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
guard.fingerprint_rules = 1
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION guard VERSION '0.3';
	CREATE TABLE big(id int PRIMARY KEY, v int, w int, b bigint, note text);
	INSERT INTO big SELECT g, g, g, g, 'n' || g FROM generate_series(1, 100000) g;
	CREATE INDEX big_w ON big(w);
	CREATE TABLE big2 AS SELECT * FROM big;
	ALTER TABLE big ADD COLUMN "c$1" int, ADD COLUMN "c$2" int;
	ANALYZE big, big2;
});
my $point = 'SELECT v FROM big WHERE id = 42';
my $report = 'SELECT count(*) FROM big WHERE v > 10';
my $byw = 'SELECT v FROM big WHERE w = 42';
my $bigint = 'SELECT count(*) FROM big WHERE b > 7';
my $rejected = 'SELECT count(*) FROM big WHERE v < 10';
# an Append: its children are listed in the order of their hashes, which
# the rules change
my $union = 'SELECT id FROM big WHERE v = 3 UNION ALL SELECT id FROM big2 WHERE v = 4';
my $bynote = q{SELECT count(*) FROM big WHERE note = 'x'};
# "c$1" is a column, not a parameter: a statement reading "c$2" is another
my $dollar = 'SELECT "c$1" FROM big WHERE v = 5 LIMIT 3';
$node->safe_psql('postgres', "$point; $report; $byw; $bigint; $union; $bynote; $dollar;");
$node->safe_psql('postgres', q{SELECT guard.approve_observed('warm-up')});
# 0.3's approve_observed leaves seq scans to approve one by one
$node->safe_psql('postgres', q{
	SELECT guard.approve(query_hash, plan_hash, 'report') FROM guard.plans p
	 WHERE query LIKE '%FROM big WHERE%' AND NOT EXISTS
	   (SELECT FROM guard.baseline b
	     WHERE b.query_hash = p.query_hash AND b.plan_hash = p.plan_hash)});
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM guard.baseline WHERE query LIKE '%FROM big WHERE%'}), '7',
	'0.3, rules 1: seven plans approved');
$node->safe_psql('postgres', $rejected);
$node->safe_psql('postgres', q{
	SELECT guard.reject(query_hash, plan_hash, 'no') FROM guard.plans
	 WHERE query LIKE '%v < $1%'});
# an incident left open under rules 1 (observe mode)
my $open = 'SELECT count(*) FROM big WHERE w < 3 OR v > 99990';
$node->safe_psql('postgres', $open);
my $open_hashes = $node->safe_psql('postgres',
	q{SELECT query_hash || ', ' || plan_hash FROM guard.incidents WHERE query LIKE '%w < $1 OR%'});
isnt($open_hashes, '', 'an open incident under rules 1');
# a rejection with an expiry on the literal form, an approval of the
# prepared form with the same text and shape
$node->safe_psql('postgres',
	'PREPARE e(int) AS SELECT count(*) FROM big WHERE v > $1 AND w > 0; EXECUTE e(5);');
$node->safe_psql('postgres', 'SELECT count(*) FROM big WHERE v > 5 AND w > 0');
my $both = q{query = 'SELECT count(*) FROM big WHERE v > $1 AND w > $2'};
my $literal_qh = $node->safe_psql('postgres',
	"SELECT query_hash FROM guard.plans WHERE $both AND generic_calls + custom_calls = 0");
$node->safe_psql('postgres',
	"SELECT guard.approve(query_hash, plan_hash) FROM guard.plans WHERE $both AND generic_calls + custom_calls > 0");
is($node->safe_psql('postgres', "SELECT count(*) FROM guard.baseline WHERE $both"),
	'2', 'the prepared form approved, and the literal form with it');
my $v1_keys = $node->safe_psql('postgres',
	q{SELECT string_agg(query_hash || '/' || plan_hash, ',' ORDER BY query)
	    FROM guard.baseline});

# the new version, rules 2, block mode
$node->safe_psql('postgres', 'ALTER EXTENSION guard UPDATE');
is($node->safe_psql('postgres',
	q{SELECT extversion FROM pg_extension WHERE extname = 'guard'}), '0.6', 'updated to 0.6, the default');
is($node->safe_psql('postgres',
	q{SELECT count(*) FILTER (WHERE fingerprint_rules IS NULL), count(*) FROM guard.baseline
	   WHERE query LIKE '%FROM big WHERE%'}),
	'10|10', 'the decisions are kept, their rules unknown (NULL: rules 1)');

$node->append_conf('postgresql.conf', qq{
guard.fingerprint_rules = 2
guard.mode = block
});
$node->restart;
is($node->safe_psql('postgres', 'SHOW guard.fingerprint_rules'), '2', 'rules 2');
isnt($node->safe_psql('postgres', q{SELECT guard.explain('SELECT count(*) FROM big WHERE v > 10')}),
	'', 'explain works');

my ($ret, $out, $err);
($ret, $out, $err) = $node->psql('postgres', $report);
is($ret, 0, 'the approved report runs under rules 2 before rekey');
is($err, '', 'without a warning');
($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM big WHERE v > 99999');
is($ret, 0, 'with other literal values too');
is($err, '', 'without a warning');
($ret, $out, $err) = $node->psql('postgres',
	'PREPARE p(int) AS SELECT count(*) FROM big WHERE v > $1; EXECUTE p(5); EXECUTE p(6)');
is($ret, 0, 'prepared with a parameter');
is($err, '', 'without a warning');
($ret, $out, $err) = $node->psql('postgres', $bigint);
is($ret, 0, 'a literal compared with a bigint column runs');
is($err, '', 'without a warning');
($ret, $out, $err) = $node->psql('postgres', $point);
is($ret, 0, 'the approved index plan runs');
($ret, $out, $err) = $node->psql('postgres', $rejected);
isnt($ret, 0, 'the plan rejected under rules 1 is refused');
like($err, qr/rejected/, 'as rejected');
is($node->safe_psql('postgres', q{
	SELECT string_agg(status, ',' ORDER BY query) FROM guard.plans
	 WHERE query IN ('SELECT count(*) FROM big WHERE v > $1', 'SELECT count(*) FROM big WHERE v < $1')}),
	'rejected,approved,approved',
	'guard.plans shows the decisions made under rules 1 (the report: literal and prepared forms)');
($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM big WHERE w > 5');
isnt($ret, 0, 'a new seq scan is blocked');
like($err, qr/guard blocked a plan that sequentially scans public\.big/, 'by block mode');

# an Append approved under rules 1: its children come in another order
($ret, $out, $err) = $node->psql('postgres', $union);
is($ret, 0, 'the approved UNION ALL runs');
is($err, '', 'without a warning');

# a $n inside a quoted name is no parameter
($ret, $out, $err) = $node->psql('postgres', 'SELECT "c$1" FROM big WHERE v = 8 LIMIT 1');
is($ret, 0, 'the approved statement reading "c$1" runs with other values');
($ret, $out, $err) = $node->psql('postgres', 'SELECT "c$2" FROM big WHERE v = 8 LIMIT 1');
isnt($ret, 0, 'the same statement reading "c$2" is another, and blocked');

# a name holding a newline cannot forge a line of an approved plan's shape
$node->safe_psql('postgres', qq{
	CREATE TABLE "w\n  Seq Scan on public.big\n"(id int);
	INSERT INTO "w\n  Seq Scan on public.big\n" VALUES (1);
	ANALYZE "w\n  Seq Scan on public.big\n";
	SELECT id FROM big WHERE false UNION ALL SELECT id FROM "w\n  Seq Scan on public.big\n";
	SELECT guard.approve(query_hash, plan_hash) FROM guard.plans WHERE query LIKE '%UNION ALL SELECT id FROM "w%';});
like($node->safe_psql('postgres', q{SELECT plan FROM guard.baseline WHERE query LIKE '%UNION ALL SELECT id FROM "w%'}),
	qr/^Seq Scan on public\."w\\x0a  Seq Scan on public\.big\\x0a"$/,
	'the shape writes the newlines of the name as \\x0a');
($ret, $out, $err) = $node->psql('postgres',
	qq{SELECT id FROM big WHERE true UNION ALL SELECT id FROM "w\n  Seq Scan on public.big\n"});
isnt($ret, 0, 'a plan that reads big sequentially is blocked, as for any other name');
like($err, qr/guard blocked a plan that sequentially scans public\.big/, 'by block mode');

# the text is read as the statement was parsed, or not matched at all: a
# statement prepared under standard_conforming_strings = on and planned
# under off lexes into another text, which must not pass for the approved
# one (its plan is the approved plan's shape)
($ret, $out, $err) = $node->psql('postgres', $bynote);
is($ret, 0, 'the approved statement by note runs');
($ret, $out, $err) = $node->psql('postgres', q{
	SET standard_conforming_strings = on;
	PREPARE s AS SELECT count(*) FROM big WHERE note = 'x\' AND v = 1 AND note <> ';';
	SET standard_conforming_strings = off;
	EXECUTE s;});
isnt($ret, 0, 'a statement that lexes into the approved text under other settings is blocked');
like($err, qr/guard blocked a plan that sequentially scans public\.big/, 'by block mode');

# a rejection under rules 1 that expires: then the approval with the same
# texts applies, in a session that read the baseline before
$node->safe_psql('postgres', qq{
	UPDATE guard.baseline SET status = 'rejected', expires_at = now() + interval '3 seconds'
	 WHERE query_hash = $literal_qh});
($ret, $out, $err) = $node->psql('postgres', q{
	SELECT count(*) FROM big WHERE v > 5 AND w > 0;
	SELECT pg_sleep(3.5);
	SELECT count(*) FROM big WHERE v > 6 AND w > 0;}, on_error_stop => 0);
like($err, qr/guard blocked a rejected plan/, 'refused while the rejection is in force');
like($out, qr/^99994$/m, 'and approved once it expired, in the same session');

# the incident left open under rules 1 is decided by its hashes: the
# decision is filed under rules 1 and applies by its texts
is($node->safe_psql('postgres', q{
	SELECT status FROM guard.incidents WHERE query LIKE '%v < $1%' AND reason = 'new_seqscan'}),
	'rejected', 'an incident of rules 1 shows its rules-1 decision');
$node->safe_psql('postgres', "SELECT guard.approve($open_hashes, 'after the upgrade')");
is($node->safe_psql('postgres', q{
	SELECT fingerprint_rules FROM guard.baseline WHERE note = 'after the upgrade'}),
	'1', 'the approval of a rules-1 incident is filed under rules 1');
($ret, $out, $err) = $node->psql('postgres', $open);
is($ret, 0, 'and the statement runs');
is($err, '', 'without a warning');

# a rejection without texts approves nothing: block mode stays
$node->safe_psql('postgres', q{
	INSERT INTO guard.baseline (query_hash, plan_hash, status, created_at, created_by)
	VALUES (33, 44, 'rejected', now(), current_user)});
($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM big WHERE w > 8');
isnt($ret, 0, 'a rejection without texts does not turn block into warn');
$node->safe_psql('postgres', 'DELETE FROM guard.baseline WHERE query_hash = 33');

# a decision without texts: it could approve any plan, so blocks become warnings
$node->safe_psql('postgres', q{
	INSERT INTO guard.baseline (query_hash, plan_hash, status, created_at, created_by)
	VALUES (11, 22, 'approved', now(), current_user)});
($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM big WHERE w > 6');
is($ret, 0, 'while a decision without texts remains, a new seq scan runs');
like($err, qr/not blocked because decisions made under other fingerprint rules without texts/,
	'with a warning that says why');
like($err, qr/guard\.rekey\(\)/, 'and the rekey hint');
($ret, $out, $err) = $node->psql('postgres', $rejected);
isnt($ret, 0, 'a rejected plan is still refused');
# what block mode would have stopped is not adopted by a capture
$node->safe_psql('postgres', q{BEGIN; SELECT guard.approve_observed('during'); COMMIT;});
is($node->safe_psql('postgres', q{SELECT count(*) FROM guard.baseline WHERE query LIKE '%w > $1' AND note = 'during'}),
	'0', 'approve_observed does not adopt a plan only warned about for lack of texts');


# the index of one statement goes away before rekey
$node->safe_psql('postgres', 'DROP INDEX big_w');
($ret, $out, $err) = $node->psql('postgres', $byw);
is($ret, 0, 'the changed plan of an approved statement only warned about, ...');
$node->safe_psql('postgres', 'DELETE FROM guard.baseline WHERE query_hash = 11');
($ret, $out, $err) = $node->psql('postgres', $byw);
isnt($ret, 0, '... and blocked once the decision without texts is gone');

# texts that may have been clipped (at 64 kB) match nothing, and do not
# weaken block mode either (a statement of the right length is the
# application's to write)
$node->safe_psql('postgres', q{
	INSERT INTO guard.baseline (query_hash, plan_hash, status, query, plan, created_at, created_by)
	VALUES (12, 23, 'approved', 'SELECT count(*) FROM big WHERE w > $1 AND note <> ' || repeat('x', 65540),
	        E'Aggregate\n  Seq Scan on public.big', now(), current_user)});
($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM big WHERE w > 9');
isnt($ret, 0, 'an approval with a clipped text does not turn block into warn');
is($node->safe_psql('postgres', 'SELECT carried, reason FROM guard.rekey() WHERE old_query_hash = 12'),
	'f|no texts to match', 'rekey lists it');
$node->safe_psql('postgres', 'DELETE FROM guard.baseline WHERE query_hash = 12');

my $rekey = q{SELECT query, status, old_rules, carried, coalesce(reason, '-'),
	new_plan_hash IS NOT NULL, new_status
	FROM guard.rekey() WHERE query ~ 'FROM big WHERE [bviw][^ ]* [<>=] \\$1$' ORDER BY query};
# one row per observed plan with the decision's texts: the report's literal
# and prepared forms are two
my $expected = join("\n",
	'SELECT count(*) FROM big WHERE b > $1|approved|1|t|-|t|approved',
	'SELECT count(*) FROM big WHERE v < $1|rejected|1|t|-|t|rejected',
	'SELECT count(*) FROM big WHERE v > $1|approved|1|t|-|t|approved',
	'SELECT count(*) FROM big WHERE v > $1|approved|1|t|-|t|approved',
	'SELECT v FROM big WHERE id = $1|approved|1|t|-|t|approved',
	'SELECT v FROM big WHERE w = $1|approved|1|f|observed with another plan|t|new');
is($node->safe_psql('postgres', $rekey), $expected, 'rekey carries the unchanged plans');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM guard.baseline WHERE fingerprint_rules = 2
	   AND query ~ 'FROM big WHERE [bviw][^ ]* [<>=] \\$1$'}),
	'5', 'five decisions filed under rules 2');
is($node->safe_psql('postgres',
	q{SELECT string_agg(query_hash || '/' || plan_hash, ',' ORDER BY query)
	    FROM guard.baseline WHERE fingerprint_rules IS NULL}),
	$v1_keys, 'the rules-1 rows are kept as they were');
is($node->safe_psql('postgres', $rekey), $expected, 'a second rekey reports the same');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM guard.baseline WHERE fingerprint_rules = 2
	   AND query ~ 'FROM big WHERE [bviw][^ ]* [<>=] \\$1$'}),
	'5', 'and writes nothing');

# after rekey: the decisions apply as before
($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM big WHERE v > 12');
is($ret, 0, 'after rekey the approved report runs');
is($err, '', 'without a warning');
($ret, $out, $err) = $node->psql('postgres', $point);
is($ret, 0, 'the approved index plan runs');
($ret, $out, $err) = $node->psql('postgres', $rejected);
isnt($ret, 0, 'the rejected plan is refused');
like($err, qr/rejected/, 'as rejected');

# forgetting the carried decision forgets it under every rules
is($node->safe_psql('postgres', q{
	SELECT guard.forget(query_hash, plan_hash) FROM guard.baseline
	 WHERE fingerprint_rules = 2 AND query = 'SELECT count(*) FROM big WHERE v > $1' LIMIT 1}),
	't', 'forget');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM guard.baseline WHERE query = 'SELECT count(*) FROM big WHERE v > $1'}),
	'0', 'no row of the statement is left, under any rules');
($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM big WHERE v > 13');
isnt($ret, 0, 'the forgotten report is blocked again');

# an application role cannot rekey
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN');
($ret, $out, $err) = $node->psql('postgres', 'SELECT * FROM guard.rekey()',
	extra_params => [ '-U', 'app' ]);
isnt($ret, 0, 'guard.rekey() is not for PUBLIC');
like($err, qr/permission denied/, 'permission denied');

$node->stop;
done_testing();
