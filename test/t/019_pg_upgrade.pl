# The pg_upgrade rehearsal, PostgreSQL 15 -> 18 (doc/operations.md, "A
# PostgreSQL major upgrade with pg_upgrade").  A 15 cluster with guard
# preloaded under fingerprint rules 2 runs an application's warm-up, adopts
# it as the baseline, rejects one plan, leaves one incident open (warn mode)
# and enforces with ALTER SYSTEM SET guard.mode = block; 18's pg_upgrade
# moves it to 18.  On 18:
#  - guard loads; the extension and every decision in guard.baseline are
#    there unchanged; guard.mode is back to its default (postgresql.auto.conf
#    stays behind);
#  - guard's files in pg_stat/ stay behind: no observed plan and no incident
#    comes over, copied by hand they are ignored, and new incidents are
#    numbered from 1 again;
#  - the planner statistics come over (18's pg_upgrade), the cumulative
#    statistics do not;
#  - guard.replan() finds no changed plan, before and after ANALYZE;
#  - the warm-up statements get the query_hash, plan_hash and plan shape
#    they had on 15 (their EXPLAIN (COSTS OFF) is the same);
#  - in block mode the approved statements run without a warning, the
#    rejected plan and new large sequential scans are refused.
# Runs only when GUARD_PG18_INSTALL names an 18 install (the parent of its
# bin/ and lib/, with guard installed): test/pg18/upgrade.sh sets it.
use strict;
use warnings;
use Cwd;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $inst18 = $ENV{GUARD_PG18_INSTALL};
plan skip_all => 'GUARD_PG18_INSTALL not set (test/pg18/upgrade.sh sets it)'
  unless defined $inst18 && $inst18 ne '';
die "GUARD_PG18_INSTALL=$inst18 has no bin/pg_upgrade" unless -x "$inst18/bin/pg_upgrade";

# the same settings on both sides; rules 2 written down (the default may change)
my $conf = qq{
shared_preload_libraries = 'guard'
guard.fingerprint_rules = 2
max_parallel_workers_per_gather = 0
jit = off
};

# The application's warm-up: what it runs, and its text in guard.plans.
# prepare: run first in the same session; repeat: executions (a prepared
# statement gets its generic plan from the sixth).
my @warmup = (
	{ name => 'point', sql => 'SELECT abalance FROM accounts WHERE aid = 4242',
	  query => 'SELECT abalance FROM accounts WHERE aid = $1' },
	{ name => 'branch_count', sql => 'SELECT count(*) FROM accounts WHERE bid = 17',
	  query => 'SELECT count(*) FROM accounts WHERE bid = $1' },
	{ name => 'prepared', prepare => 'PREPARE acct(int) AS SELECT aid, bid, abalance FROM accounts WHERE aid = $1',
	  sql => 'EXECUTE acct(77)', repeat => 6,
	  query => 'SELECT aid, bid, abalance FROM accounts WHERE aid = $1' },
	{ name => 'report', sql => 'SELECT bid, sum(abalance), count(*) FROM accounts GROUP BY bid ORDER BY bid',
	  query => 'SELECT bid, sum(abalance), count(*) FROM accounts GROUP BY bid ORDER BY bid' },
	{ name => 'join',
	  sql => 'SELECT b.bname, count(*) FROM branches b JOIN accounts a ON a.bid = b.bid WHERE b.bid = 7 GROUP BY b.bname',
	  query => 'SELECT b.bname, count(*) FROM branches b JOIN accounts a ON a.bid = b.bid WHERE b.bid = $1 GROUP BY b.bname' },
	{ name => 'update', sql => 'UPDATE accounts SET abalance = abalance + 5 WHERE aid = 17',
	  query => 'UPDATE accounts SET abalance = abalance + $1 WHERE aid = $2' },
	{ name => 'small_scan', sql => q{SELECT bid FROM branches WHERE bname LIKE 'branch 9%'},
	  query => 'SELECT bid FROM branches WHERE bname LIKE $1' });
my $rejected = 'SELECT count(*) FROM accounts WHERE abalance < 0';
my $rejected_query = 'SELECT count(*) FROM accounts WHERE abalance < $1';
my $warned = q{SELECT aid FROM accounts WHERE filler LIKE '%x%'};
my $warned_query = 'SELECT aid FROM accounts WHERE filler LIKE $1';

# script W [PREFIX]: the statements of warm-up entry W, each prefixed
sub script
{
	my ($w, $prefix) = @_;
	$prefix //= '';
	my $s = "SET ROLE teller;\n";
	$s .= defined $w->{prepare} ? "$w->{prepare};\n" : '';
	$s .= "$prefix$w->{sql};\n" x ($w->{repeat} // 1);
	return $s;
}

# hashes NODE QUERY: the executed plans of a statement, "query_hash/plan_hash ..."
sub hashes
{
	my ($node, $query) = @_;
	return $node->safe_psql('bank', qq{
		SELECT string_agg(query_hash || '/' || plan_hash, ' ' ORDER BY query_hash, plan_hash)
		  FROM guard.plans
		 WHERE database = current_database() AND calls > 0 AND query = \$q\$$query\$q\$});
}

# shapes NODE QUERY: guard's plan shapes of those plans
sub shapes
{
	my ($node, $query) = @_;
	return $node->safe_psql('bank', qq{
		SELECT string_agg(plan, E'\\n--\\n' ORDER BY query_hash, plan_hash)
		  FROM guard.plans
		 WHERE database = current_database() AND calls > 0 AND query = \$q\$$query\$q\$});
}

# explain_of NODE W: EXPLAIN (COSTS OFF) of warm-up entry W, as the application runs it
sub explain_of
{
	my ($node, $w) = @_;
	return $node->safe_psql('bank',
		"SET guard.explain_verdict = off;\n" . script($w, 'EXPLAIN (COSTS OFF) '));
}

my $baseline_sql = q{SELECT b::text FROM guard.baseline b ORDER BY query_hash, plan_hash};
my $incidents_sql = q{
	SELECT incident_id, reason, relation, action, status, resolved, query_hash, plan_hash, query
	  FROM guard.incidents WHERE database = 'bank' ORDER BY incident_id};

### PostgreSQL 15: warm-up, baseline, a rejection, an open incident

my $old = PostgreSQL::Test::Cluster->new('old');
$old->init;
$old->append_conf('postgresql.conf', $conf);
$old->start;
like($old->safe_psql('postgres', 'SHOW server_version_num'), qr/^15\d{4}$/, 'the old node is PostgreSQL 15');
$old->safe_psql('postgres', 'CREATE DATABASE bank');
$old->safe_psql('bank', q{
	CREATE EXTENSION guard;
	CREATE TABLE branches(bid int PRIMARY KEY, bname text NOT NULL);
	CREATE TABLE accounts(aid int PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL,
	                      filler char(84));
	INSERT INTO branches SELECT g, 'branch ' || g FROM generate_series(1, 100) g;
	INSERT INTO accounts SELECT g, 1 + g % 100, 0, '' FROM generate_series(1, 100000) g;
	CREATE INDEX accounts_bid ON accounts(bid);
	VACUUM ANALYZE;
	SELECT guard.reset();
	-- the application runs as a role of its own (guard.replan plans a
	-- statement as the role that ran it, never as a superuser)
	CREATE ROLE teller;
	GRANT SELECT, UPDATE ON accounts, branches TO teller;
});

# the warm-up, adopted as the baseline (with the approve_observed call itself)
foreach my $w (@warmup)
{
	$old->safe_psql('bank', script($w));
}
is($old->safe_psql('bank', q{SELECT guard.approve_observed('warm-up')}), scalar(@warmup) + 1,
	'15: the warm-up is adopted as the baseline');
is($old->safe_psql('bank', 'SHOW guard.fingerprint_rules'), '2', '15: fingerprint rules 2');
my $extversion = $old->safe_psql('bank', q{SELECT extversion FROM pg_extension WHERE extname = 'guard'});
my (%h15, %shape15, %explain15);
foreach my $w (@warmup)
{
	my $n = $w->{name};
	$h15{$n} = hashes($old, $w->{query});
	$shape15{$n} = shapes($old, $w->{query});
	$explain15{$n} = explain_of($old, $w);
	like($h15{$n}, qr/^-?\d+\/-?\d+( -?\d+\/-?\d+)*$/, "15: $n recorded by guard");
}

# a plan the DBA rejects
$old->safe_psql('bank', "SET ROLE teller; $rejected");
$old->safe_psql('bank', qq{
	SELECT guard.reject(query_hash, plan_hash, 'scans all accounts: ticket 123')
	  FROM guard.plans WHERE database = current_database() AND query = \$q\$$rejected_query\$q\$});
my $rejected15 = hashes($old, $rejected_query);
is($old->safe_psql('bank', qq{SELECT string_agg(status, ',') FROM guard.baseline
	WHERE query = \$q\$$rejected_query\$q\$}), 'rejected', '15: one plan rejected');

# a new large sequential scan in warn mode: warned, its incident stays open
my ($ret, $out, $err) = $old->psql('bank', "SET guard.mode = warn; $warned");
is($ret, 0, '15: the new sequential scan runs in warn mode');
like($err, qr/WARNING:  plan sequentially scans public\.accounts/, '15: with a warning');
my $warned15 = hashes($old, $warned_query);

my $baseline15 = $old->safe_psql('bank', $baseline_sql);
note "15: baseline\n$baseline15\n15: incidents\n" . $old->safe_psql('bank', $incidents_sql);
is($old->safe_psql('bank', q{
	SELECT string_agg(incident_id || ' ' || reason || ' ' || action || ' ' || status || ' '
	                  || CASE WHEN resolved THEN 'resolved' ELSE 'open' END, ', ' ORDER BY incident_id)
	  FROM guard.incidents}),
	'1 new_seqscan logged approved resolved, 2 new_seqscan logged rejected resolved, '
	  . '3 new_seqscan warned new open',
	'15: the report\'s incident resolved by the capture, the rejected one by the rejection, one open');
my $warned_incident15 = $old->safe_psql('bank', qq{SELECT query_hash || '/' || plan_hash
	FROM guard.incidents WHERE query = \$q\$$warned_query\$q\$});
is($warned_incident15, $warned15, '15: the open incident is the warned plan\'s');

# production runs in block mode, set with ALTER SYSTEM (postgresql.auto.conf)
$old->safe_psql('bank', q{ALTER SYSTEM SET guard.mode = 'block'});
$old->reload;
$old->poll_query_until('bank', q{SELECT current_setting('guard.mode') = 'block'})
  or die 'guard.mode = block not in force on 15';

my $stats_sql = q{
	SELECT tablename, attname, null_frac, avg_width, n_distinct, correlation,
	       most_common_vals::text, histogram_bounds::text
	  FROM pg_stats WHERE schemaname = 'public' ORDER BY tablename, attname};
my $stats15 = $old->safe_psql('bank', $stats_sql);
my $reltuples_sql = q{SELECT relname || ' ' || reltuples || ' ' || relpages FROM pg_class
	WHERE relname IN ('accounts', 'branches') ORDER BY relname};
my $reltuples15 = $old->safe_psql('bank', $reltuples_sql);
my $sysid15 = $old->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');

### PostgreSQL 18, same settings; pg_upgrade

my $new = PostgreSQL::Test::Cluster->new('new', install_path => $inst18);

# init_new: a fresh 18 data directory.  18's initdb enables data checksums
# by default, 15's did not: pg_upgrade needs both the same.
sub init_new
{
	$new->init(extra => [ '--no-data-checksums' ]);
	$new->append_conf('postgresql.conf', $conf);
}
init_new();

$old->stop;
my $old_stat = $old->data_dir . '/pg_stat';
ok(-f "$old_stat/guard.stat", '15: the store was saved at shutdown (pg_stat/guard.stat)');
ok(-f "$old_stat/guard_incidents.stat", '15: the incidents too (pg_stat/guard_incidents.stat)');

my $sockdir = PostgreSQL::Test::Utils::tempdir_short;

# pg_upgrade: run 18's pg_upgrade in a directory of its own (it writes
# there), return whether it succeeded
sub pg_upgrade
{
	my $cwd = getcwd();
	my $dir = PostgreSQL::Test::Utils::tempdir;
	chdir $dir or die "chdir $dir: $!";
	my $ok = $new->run_log(
		[ "$inst18/bin/pg_upgrade", '--no-sync', '--copy',
		  '-b', $old->config_data('--bindir'), '-B', "$inst18/bin",
		  '-d', $old->data_dir, '-D', $new->data_dir,
		  '-p', $old->port, '-P', $new->port, '-s', $sockdir ]);
	chdir $cwd or die "chdir $cwd: $!";
	return $ok;
}

# upgrade_logs: pg_upgrade's logs, left in the new data directory on failure
sub upgrade_logs
{
	my $logs = '';
	foreach my $f (glob($new->data_dir . '/pg_upgrade_output.d/*/log/*'))
	{
		$logs .= "--- $f\n" . slurp_file($f);
	}
	return $logs;
}

my $upgraded = pg_upgrade();

# PostgreSQL 15.20 keeps a version of every column in its attoptions
# (pg_attver=N); pg_dump dumps it as a column option, which 18.6 does not
# know: pg_upgrade fails at the first table, guard's or the application's.
# `pg_upgrade --check` does not see it.  Both sides of the skew are
# PostgreSQL's (an 18 release that accepts pg_attver would remove it); the
# first attempt is a TODO with that exact signature.  To go on, the
# rehearsal removes the option from the old catalog's user relations (a
# test cluster's workaround) and upgrades again.
my $attver = !$upgraded && upgrade_logs() =~ /unrecognized parameter "pg_attver"/;
{
	local $TODO = $attver
	  ? 'PostgreSQL 15.20 writes column options pg_attver=N that PostgreSQL 18.6 rejects (not guard)'
	  : undef;
	ok($upgraded, 'pg_upgrade succeeds with the catalog as PostgreSQL 15 wrote it');
}
if ($attver)
{
	$old->start;
	foreach my $db (split /\n/, $old->safe_psql('postgres',
		'SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1'))
	{
		$old->safe_psql($db, q{
			UPDATE pg_catalog.pg_attribute
			   SET attoptions = (SELECT array_agg(o) FROM unnest(attoptions) o
			                      WHERE o NOT LIKE 'pg_attver=%')
			 WHERE attrelid >= 16384 AND attoptions IS NOT NULL});
	}
	$old->stop;
	PostgreSQL::Test::Utils::system_or_bail('rm', '-rf', $new->data_dir);
	init_new();
	$upgraded = pg_upgrade();
}
ok($upgraded, 'pg_upgrade from 15 to 18 succeeds') or do
{
	diag(upgrade_logs());
	die 'pg_upgrade failed';
};

### PostgreSQL 18: what came over

$new->start;
like($new->safe_psql('postgres', 'SHOW server_version_num'), qr/^18\d{4}$/, 'the new node is PostgreSQL 18');
is($new->safe_psql('bank', 'SHOW guard.fingerprint_rules'), '2', '18: guard is loaded, rules 2');
is($new->safe_psql('bank', q{SELECT extversion FROM pg_extension WHERE extname = 'guard'}),
	$extversion, "18: the extension is there, version $extversion");
is($new->safe_psql('bank', $baseline_sql), $baseline15, '18: every baseline row is there, unchanged');

# postgresql.auto.conf is not carried: guard is back in its default mode
is($new->safe_psql('bank', 'SHOW guard.mode'), 'observe',
	'18: guard.mode set with ALTER SYSTEM on 15 did not come over (observe)');

# the observed plans: pg_stat/ is not carried; guard starts with the plans
# of the statements pg_upgrade's restore ran (guard was preloaded there too)
is($new->safe_psql('bank', q{SELECT count(*) FROM guard.plans WHERE database = 'bank'
	AND query LIKE '%FROM accounts%'}), '0', '18: no observed plan of the application came over');
note "18: plans in the store after pg_upgrade:\n" . $new->safe_psql('bank',
	q{SELECT coalesce(database, '-') || ' ' || calls || ' ' || left(query, 100) FROM guard.plans ORDER BY query});
is($new->safe_psql('bank', q{SELECT count(*) > 0 FROM guard.plans WHERE database = 'bank'
	AND calls > 0 AND query LIKE '%pg_restore_relation_stats%'}), 't',
	'18: the store holds the statements of pg_upgrade\'s restore instead');

# the incidents: not carried either
is($new->safe_psql('bank', 'SELECT count(*) FROM guard.incidents'), '0', '18: no incident came over');

# guard's files copied from the old data directory by hand are ignored:
# they record another PostgreSQL major version and database system
$new->stop;
my $new_stat = $new->data_dir . '/pg_stat';
foreach my $f (qw(guard.stat guard_incidents.stat guard_incidents.ids))
{
	copy("$old_stat/$f", "$new_stat/$f") or die "copy $f: $!" if -f "$old_stat/$f";
}
my $logstart = -s $new->logfile;
$new->start;
ok($new->log_contains(
	qr{ignoring file "pg_stat/guard_incidents.stat" written by another version of guard or PostgreSQL},
	$logstart), '18: the incidents file of 15, copied by hand, is ignored');
ok($new->log_contains(
	qr{ignoring file "pg_stat/guard.stat" written by another version of guard or PostgreSQL},
	$logstart), '18: so is the store file of 15');
is($new->safe_psql('bank', 'SELECT count(*) FROM guard.incidents'), '0', '18: still no incident of 15');
my $sysid18 = $new->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');
isnt($sysid18, $sysid15, 'pg_upgrade gives the new cluster a system identifier of its own');

# the planner statistics: 18's pg_upgrade transfers them; the cumulative
# statistics (n_live_tup) start from zero
is($new->safe_psql('bank', $stats_sql), $stats15, '18: the planner statistics came over');
is($new->safe_psql('bank', $reltuples_sql), $reltuples15, '18: reltuples and relpages too');
is($new->safe_psql('bank', q{SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'accounts'}),
	'0', '18: the cumulative statistics did not');


### PostgreSQL 18: replan, before and after ANALYZE

# replan NODE: the warm-up's and the rejected statement's rows of guard.replan()
my @replan_queries = sort(map { $_->{query} } @warmup, { query => $rejected_query });
my $replan_sql = q{
	SELECT query || '|' || status || '|' || changed || '|' || new_status || '|' || verdict
	  FROM guard.replan() WHERE query IN (}
  . join(', ', map { "\$q\$$_\$q\$" } @replan_queries)
  . q{) ORDER BY query COLLATE "C"};
my $replan_expected = join("\n",
	map { $_ eq $rejected_query ? "$_|rejected|false|rejected|flagged" : "$_|approved|false|approved|ok" }
	  @replan_queries);
# (the approve_observed call, run by the superuser, is not planned)
my $replan_totals = q{
	SELECT count(*) FILTER (WHERE changed) || ' changed, '
	       || count(*) FILTER (WHERE error IS NOT NULL
	                            AND error <> 'guard does not plan a statement as a superuser')
	       || ' errors, ' || count(*) || ' statements'
	  FROM guard.replan()};
my $decided = $new->safe_psql('bank', 'SELECT count(DISTINCT query_hash) FROM guard.baseline');

is($new->safe_psql('bank', $replan_sql), $replan_expected,
	'18, statistics from pg_upgrade: replan finds every plan unchanged');
is($new->safe_psql('bank', $replan_totals), "0 changed, 0 errors, $decided statements",
	'18, statistics from pg_upgrade: no statement of the baseline changed or failed');

$new->safe_psql('bank', 'ANALYZE');
is($new->safe_psql('bank', $replan_sql), $replan_expected,
	'18, after ANALYZE: replan finds every plan unchanged');
is($new->safe_psql('bank', $replan_totals), "0 changed, 0 errors, $decided statements",
	'18, after ANALYZE: no statement of the baseline changed or failed');

### PostgreSQL 18: the warm-up again, same hashes as on 15

my $same_plans = 0;
foreach my $w (@warmup)
{
	$new->safe_psql('bank', script($w));
}
foreach my $w (@warmup)
{
	my $n = $w->{name};
	my $explain18 = explain_of($new, $w);
	if ($explain18 ne $explain15{$n})
	{
		diag("$n: EXPLAIN (COSTS OFF) differs\n--- 15\n$explain15{$n}\n--- 18\n$explain18");
		next;
	}
	$same_plans++;
	is(hashes($new, $w->{query}), $h15{$n}, "18: $n has the query_hash and plan_hash it had on 15");
	is(shapes($new, $w->{query}), $shape15{$n}, "18: $n has the plan shape it had on 15");
}
is($same_plans, scalar @warmup, 'EXPLAIN (COSTS OFF) of every warm-up statement is the same on 15 and 18');

### PostgreSQL 18 in block mode

$new->safe_psql('bank', q{ALTER SYSTEM SET guard.mode = 'block'});
$new->reload;
$new->poll_query_until('bank', q{SELECT current_setting('guard.mode') = 'block'})
  or die 'guard.mode = block not in force';

foreach my $w (@warmup)
{
	($ret, $out, $err) = $new->psql('bank', script($w));
	is($ret, 0, "18, block: the approved $w->{name} runs");
	is($err, '', "18, block: $w->{name} without a warning");
}
($ret, $out, $err) = $new->psql('bank', $rejected);
isnt($ret, 0, '18, block: the rejected plan is refused');
like($err, qr/ERROR:  guard blocked a rejected plan that sequentially scans public\.accounts/,
	'18, block: as rejected');
($ret, $out, $err) = $new->psql('bank', $warned);
isnt($ret, 0, '18, block: the statement warned about on 15 (never decided) is refused');
like($err, qr/ERROR:  guard blocked a plan that sequentially scans public\.accounts/,
	'18, block: as a new sequential scan');
($ret, $out, $err) = $new->psql('bank', 'SELECT max(abalance) FROM accounts WHERE abalance + aid > 0');
isnt($ret, 0, '18, block: a brand new large sequential scan is refused');
like($err, qr/ERROR:  guard blocked a plan that sequentially scans public\.accounts/,
	'18, block: as a new sequential scan');

is(hashes($new, $rejected_query), $rejected15, '18: the refused plan is the one rejected on 15');

# incidents on 18 are numbered from 1 again: ids are unique per data
# directory, and pg_upgrade makes a new one
my $incidents18 = $new->safe_psql('bank', $incidents_sql);
note "18: incidents\n$incidents18";
is($new->safe_psql('bank', q{
	SELECT string_agg(incident_id || ' ' || reason || ' ' || action || ' ' || status, ', ' ORDER BY incident_id)
	  FROM guard.incidents}),
	'1 new_seqscan blocked new, 2 new_seqscan blocked new',
	'18: new incidents for the two refused new sequential scans, numbered from 1 again, none for the rejected plan');
is($new->safe_psql('bank', qq{SELECT query_hash || '/' || plan_hash FROM guard.incidents
	WHERE query = \$q\$$warned_query\$q\$}), $warned_incident15,
	'18: the statement left open on 15 has an incident again, under the same hashes');

$new->stop;
done_testing();
