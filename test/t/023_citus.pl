# guard across a Citus cluster (issue 10, items 1-3 and 5): a coordinator and two
# workers on 127.0.0.1, citus,guard preloaded, a notifications table of
# 200 000 rows distributed by user_id in 32 shards.  On the workers each
# statement has one fingerprint whatever shard it runs on, named by the
# distributed table, the same query_hash as on a single-node copy; a shard's
# sequential scan counts with the whole table's size; in block mode the lost
# parentheses (a SELECT, and a multi-shard UPDATE) are refused, naming the
# distributed table, with nothing changed on any shard, while the good
# query keeps serving; EXPLAIN on the coordinator and on a worker keeps
# guard's line although Citus hooks EXPLAIN too.  Skipped when Citus is not installed
# (bash test/citus/build.sh builds it from ../shared/deps/citus).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $libdir = `pg_config --pkglibdir`;
chomp $libdir;
plan skip_all => 'Citus is not installed (bash test/citus/build.sh)'
  unless -f "$libdir/citus.so";

my @nodes;
for my $name ('coordinator', 'worker1', 'worker2')
{
	my $n = PostgreSQL::Test::Cluster->new($name);
	$n->init;
	$n->append_conf('postgresql.conf', qq{
listen_addresses = '127.0.0.1'
shared_preload_libraries = 'citus,guard'
max_prepared_transactions = 20
max_parallel_workers_per_gather = 0
guard.seqscan_min_rows = 20000
citus.show_shards_for_app_name_prefixes = '*'
});
	$n->append_conf('pg_hba.conf', "host all all 127.0.0.1/32 trust\n");
	$n->start;
	$n->safe_psql('postgres', 'CREATE EXTENSION citus; CREATE EXTENSION guard;');
	push @nodes, $n;
}
my ($coord, @workers) = @nodes;
$coord->safe_psql('postgres',
	"SELECT citus_set_coordinator_host('127.0.0.1', " . $coord->port . ")");
$coord->safe_psql('postgres', "SELECT citus_add_node('127.0.0.1', " . $_->port . ")")
  for @workers;

my $ddl = q{
	CREATE TABLE notifications(id bigint, user_id int NOT NULL, is_read bool,
	                           is_mention bool, body text, PRIMARY KEY (user_id, id));
	CREATE INDEX notifications_user ON notifications(user_id);
};
$coord->safe_psql('postgres', $ddl . q{
	SELECT create_distributed_table('notifications', 'user_id', shard_count => 32);
	INSERT INTO notifications
	SELECT g, g % 2000, g % 3 = 0, g % 50 = 0, 'n' || g FROM generate_series(1, 200000) g;
	ANALYZE notifications;
});
$_->safe_psql('postgres', 'SELECT guard.reset()') for @workers;

my $good = 'SELECT id FROM notifications WHERE user_id = %d AND (is_read = false OR is_mention = true)';
my $lost = 'SELECT count(*) FROM notifications WHERE user_id = 5 AND is_read = false OR is_mention = true';

# 1. one fingerprint per statement, whatever shard it runs on
$coord->safe_psql('postgres', sprintf($good, $_)) for (1, 2, 3, 4, 7, 11);
my %pairs;
my @shapes;
for my $w (@workers)
{
	for my $row (split /\n/, $w->safe_psql('postgres', q{
		SELECT query_hash || ' ' || plan_hash || ' ' || calls || ' ' || replace(plan, E'\n', ' | ')
		  FROM guard.plans WHERE query LIKE '%is_mention%' AND calls > 0}))
	{
		my ($q, $p, $calls, $plan) = split / /, $row, 4;
		$pairs{"$q $p"} += $calls;
		push @shapes, $plan;
	}
}
is(scalar(keys %pairs), 1, 'the good query for six users on two workers: one (query_hash, plan_hash)')
  or diag join("\n", keys %pairs);
is((values %pairs)[0], 6, 'counted six times');
ok(!grep({ /_\d{6}/ } @shapes), 'its plan shape names no shard') or diag join("\n", @shapes);
like($shapes[0], qr/public\.notifications/, 'but the distributed table and its index');
my ($worker_qh) = split / /, (keys %pairs)[0];

# ... the same query_hash as on one machine (a database without Citus)
$coord->safe_psql('postgres', 'CREATE DATABASE single');
$coord->safe_psql('single', 'CREATE EXTENSION guard;' . $ddl);
$coord->safe_psql('single', q{
	INSERT INTO notifications
	SELECT g, g % 2000, g % 3 = 0, g % 50 = 0, 'n' || g FROM generate_series(1, 200000) g;
	ANALYZE notifications;});
is($coord->safe_psql('single', q{SELECT query_hash || ' ' || plan_hash FROM guard.explain('SELECT id FROM notifications WHERE user_id = 7 AND (is_read = false OR is_mention = true)')}),
	(keys %pairs)[0], 'and the query_hash and plan_hash of the same statement on a single node');

# 2. a shard's scan counts with the whole table (each shard holds ~6 250 rows)
$coord->safe_psql('postgres', q{SET guard.mode = observe; } . $lost);
my $rows = $workers[0]->safe_psql('postgres', q{
	SELECT seqscan_rows[1] FROM guard.plans WHERE query LIKE 'SELECT count(*)%is_mention%' AND calls > 0 LIMIT 1});
cmp_ok($rows, '>=', 150000, "a shard's sequential scan is judged at the table's size ($rows rows)");
is($workers[0]->safe_psql('postgres', q{
	SELECT seqscans[1] FROM guard.plans WHERE query LIKE 'SELECT count(*)%is_mention%' AND calls > 0 LIMIT 1}),
	'public.notifications', 'under the distributed table\'s name');

# 3. block mode, set on the coordinator, reaches the workers (Citus
# propagates ALTER DATABASE ... SET); new sessions get it
$coord->safe_psql('postgres', q{ALTER DATABASE postgres SET guard.mode = 'block'});
is($workers[0]->safe_psql('postgres', 'SHOW guard.mode'), 'block', 'the workers are in block mode');
my ($ret, $out, $err) = $coord->psql('postgres', $lost);
isnt($ret, 0, 'the lost parentheses are refused');
like($err, qr/guard blocked a plan that sequentially scans public\.notifications \(about \d+ rows\)/,
	'the error names the distributed table, not a shard');
like($err, qr/while executing command on 127\.0\.0\.1/, 'raised by a worker');
is($coord->safe_psql('postgres', sprintf($good =~ s/SELECT id/SELECT count(*)/r, 5)), '67',
	'the good query keeps serving');

($ret, $out, $err) = $coord->psql('postgres',
	q{UPDATE notifications SET body = 'x' WHERE user_id = 5 AND is_read = false OR is_mention = true});
isnt($ret, 0, 'a multi-shard UPDATE with the same WHERE is refused');
like($err, qr/guard blocked a plan that sequentially scans public\.notifications/, 'by guard');
my $changed = 0;
for my $w (@workers)
{
	$changed += $w->safe_psql('postgres', q{
		SET guard.mode = observe;
		SELECT COALESCE(sum((xpath('/row/c/text()',
		         query_to_xml(format('SELECT count(*) AS c FROM %I WHERE body = ''x''', relname),
		                      false, true, '')))[1]::text::int), 0)
		  FROM pg_class WHERE relname ~ '^notifications_[0-9]+$' AND relkind = 'r'});
}
is($changed, 0, 'and nothing changed on any shard');

# 4. EXPLAIN keeps guard's line although Citus also hooks EXPLAIN (guard
# chains): the worker's verdict on the shard's plan comes back in the
# coordinator's EXPLAIN
my $explain = $coord->safe_psql('postgres', "EXPLAIN (COSTS OFF) $lost");
like($explain, qr/Guard: flagged \(new_seqscan\): sequential scan of public\.notifications/,
	'EXPLAIN on the coordinator shows the worker\'s Guard line') or diag $explain;
$explain = $workers[0]->safe_psql('postgres', "EXPLAIN (COSTS OFF) $lost");
like($explain, qr/Guard: flagged/, 'and so does EXPLAIN on a worker') or diag $explain;

# 5. Citus's own statements (its daemon's deadlock detector and 2PC
# recovery, every few seconds, on every node) are not recorded
sleep(3);
is(join('', map { $_->safe_psql('postgres', q{SELECT count(*) FROM guard.plans WHERE query ~ 'waiting_pid|pg_prepared_xacts'}) } @nodes),
	'000', 'Citus\'s maintenance statements are in no node\'s guard.plans')
  or diag join("\n", map { $_->safe_psql('postgres', q{SELECT calls || ' ' || userid::regrole || ' ' || left(query, 200) FROM guard.plans WHERE query ~ 'waiting_pid|pg_prepared_xacts'}) } @nodes);

# ... but a session that only names itself like Citus's gains nothing: a
# SQL function (inlined only while planning) reading a large table is judged
$coord->safe_psql('postgres', q{
	CREATE TABLE local_big AS SELECT g FROM generate_series(1, 100000) g;
	ANALYZE local_big;
	CREATE FUNCTION srf() RETURNS SETOF local_big LANGUAGE sql STABLE AS 'SELECT * FROM local_big';});
($ret, $out, $err) = $coord->psql('postgres',
	q{SET application_name = 'citus_internal x'; SELECT count(*) FROM srf() WHERE g = 5});
like($err, qr/guard blocked a plan that sequentially scans public\.local_big/,
	'a spoofed citus_internal session is still judged') or diag "$out $err";

# ... and a table merely named like a shard (here, where no placement of the
# shard lives) is no shard
my $shardid = $coord->safe_psql('postgres', q{SELECT min(shardid) FROM pg_dist_shard WHERE logicalrelid = 'notifications'::regclass});
$coord->safe_psql('postgres', "CREATE TABLE notifications_$shardid (id int)");
is($coord->safe_psql('postgres', "SELECT seqscans[1] FROM guard.explain('SELECT * FROM notifications_$shardid')"),
	"public.notifications_$shardid", 'a table named like a shard without a placement here keeps its name');
$coord->safe_psql('postgres', "SET citus.enable_manual_changes_to_shards = on; DROP TABLE notifications_$shardid");

# 6. one review queue: the coordinator reads every node's incidents, and
# one call approves the plan on every node
my $queue = $coord->safe_psql('postgres', q{
	SELECT count(DISTINCT node) || ' ' || bool_or((incident).reason = 'new_seqscan')
	  FROM guard.cluster_incidents() WHERE (incident).query LIKE 'SELECT count(*)%is_mention%'});
like($queue, qr/^[23] true$/, 'guard.cluster_incidents() shows the workers\' incidents') or diag $queue;
my ($qh, $ph) = split /\|/, $workers[0]->safe_psql('postgres', q{
	SELECT query_hash, plan_hash FROM guard.incidents
	 WHERE query LIKE 'SELECT count(*)%is_mention%' AND reason = 'new_seqscan' LIMIT 1});
is($coord->safe_psql('postgres', "SELECT count(*) FILTER (WHERE success) || '/' || count(*) FROM guard.cluster_approve($qh, $ph, 'reviewed: a report')"),
	'3/3', 'guard.cluster_approve() decides on every node');
($ret, $out, $err) = $coord->psql('postgres', $lost);
is($ret, 0, 'the approved plan runs on every shard') or diag $err;
is($coord->safe_psql('postgres', q{SELECT count(*) FROM guard.cluster_incidents() WHERE (incident).status = 'approved'}) > 0 ? 'yes' : 'no',
	'yes', 'and the queue shows it approved');
($ret, $out, $err) = $coord->psql('single', 'SELECT * FROM guard.cluster_incidents()');
like($err, qr/guard.cluster_incidents\(\) needs Citus/, 'without Citus the function says so');

# ... a rejection's expiry means the same instant on every node, whatever
# the caller's DateStyle and TimeZone
is($coord->safe_psql('postgres', q{
	SET DateStyle = 'SQL, DMY'; SET TimeZone = 'Asia/Kolkata';
	SELECT count(*) FILTER (WHERE success) FROM guard.cluster_reject(1, 2, 'expiry test', '2031-02-13 10:00+00')}),
	'3', 'guard.cluster_reject() with an expiry on every node');
is(join(',', map { $_->safe_psql('postgres', q{SET TimeZone = 'UTC'; SELECT expires_at FROM guard.baseline WHERE query_hash = 1 AND plan_hash = 2}) } @nodes),
	join(',', ('2031-02-13 10:00:00+00') x 3), 'the same expiry everywhere');

# 7. limp mode on the workers: set on the coordinator, a flagged plan runs
# throttled on every shard instead of failing
$coord->safe_psql('postgres', q{ALTER DATABASE postgres SET guard.flagged_max_concurrency = 2});
($ret, $out, $err) = $coord->psql('postgres',
	'SELECT max(id) FROM notifications WHERE user_id = 6 AND is_read = false OR is_mention = true');
is($ret, 0, 'in limp mode a new flagged plan runs') or diag $err;
is($workers[0]->safe_psql('postgres', q{
	SELECT action FROM guard.incidents WHERE query LIKE 'SELECT max(id)%' ORDER BY incident_id DESC LIMIT 1}),
	'throttled', 'throttled on the worker');

# 8. plan correction on the workers: with the good plan approved and index
# scans costed out, the worker replans without the sequential scan and runs
# the approved plan
$coord->safe_psql('postgres', q{ALTER DATABASE postgres RESET guard.flagged_max_concurrency});
my $goodcount = 'SELECT count(*) FROM notifications WHERE user_id = 7 AND (is_read = false OR is_mention = true)';
is($coord->safe_psql('postgres', $goodcount), '67', 'the good count runs');
for my $w (@workers)
{
	$w->safe_psql('postgres', q{
		SELECT guard.approve(query_hash, plan_hash, 'good') FROM guard.plans
		 WHERE query LIKE 'SELECT count(*)%user_id OPERATOR(pg_catalog.=) $1) AND ((is_read%' AND plan NOT LIKE '%Seq Scan%'});
}
$coord->safe_psql('postgres', q{
	ALTER DATABASE postgres SET enable_bitmapscan = off;
	ALTER DATABASE postgres SET enable_indexscan = off;
	ALTER DATABASE postgres SET guard.correct = on;});
($ret, $out, $err) = $coord->psql('postgres', $goodcount);
is($out, '67', 'with index scans costed out, block mode still runs it: corrected') or diag $err;
my $corrected = join(',', map { $_->safe_psql('postgres', q{
	SELECT string_agg(reason || '/' || action, ',') FROM guard.incidents
	 WHERE query LIKE 'SELECT count(*)%is_mention%' AND reason = 'plan_regression'}) } @workers);
like($corrected, qr{plan_regression/corrected}, 'the worker corrected the plan_regression') or diag $corrected;

$_->stop for @nodes;
done_testing();
