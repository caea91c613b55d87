# pg_guard check: the statements staging observed, against the baseline file
# production exported.  The good release passes (exit 0); the release that
# lost a pair of parentheses fails (exit 1) with the regression, in text,
# JSON (read by a JSON parser) and JUnit (read by an XML parser); an index
# lost between releases is a regression too; usage errors exit 2.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Copy ();

my $bindir = `pg_config --bindir`;
chomp $bindir;
my $pg_guard = "$bindir/pg_guard";

my $node = PostgreSQL::Test::Cluster->new('check');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'guard'
max_parallel_workers_per_gather = 0
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION guard;
	CREATE TABLE notifications(id int PRIMARY KEY, user_id int, is_read bool,
	                           is_mention bool, body text);
	INSERT INTO notifications
	SELECT g, g % 2000, g % 3 = 0, g % 50 = 0, 'n' || g FROM generate_series(1, 60000) g;
	CREATE INDEX notifications_user ON notifications(user_id);
	ANALYZE notifications;
	SELECT guard.reset();
});
my $dir = PostgreSQL::Test::Utils::tempdir;

sub run_pg_guard
{
	my @args = @_;
	my ($out, $err);
	local %ENV = %ENV;
	$ENV{PGHOST} = $node->host;
	$ENV{PGPORT} = $node->port;
	$ENV{PGDATABASE} = 'postgres';
	IPC::Run::run([ $pg_guard, @args ], '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my $good = 'SELECT id FROM notifications WHERE user_id = 5 AND (is_read = false OR is_mention = true)';
my $lost = 'SELECT id FROM notifications WHERE user_id = 5 AND is_read = false OR is_mention = true';

# release 1 runs in "production": its plans are the baseline
$node->safe_psql('postgres', qq{
	$good;
	PREPARE unread(int) AS SELECT id FROM notifications WHERE user_id = \$1 AND (is_read = false OR is_mention = true);
	EXECUTE unread(6);
	SELECT count(*) FROM notifications WHERE user_id = 7;
});
$node->safe_psql('postgres', q{SELECT guard.approve_observed('release 1')});
my $base = "$dir/baseline.yaml";
my ($ret, $out, $err) = run_pg_guard('baseline', 'export', '-o', $base);
is($ret, 0, 'the baseline is exported') or diag $err;

# staging runs release 1 again: nothing to report
$node->safe_psql('postgres', q{SELECT guard.reset()});
$node->safe_psql('postgres', qq{$good; SELECT count(*) FROM notifications WHERE user_id = 9;});
($ret, $out, $err) = run_pg_guard('check', '--baseline', $base);
is($ret, 0, 'release 1 passes the check') or diag "$out\n$err";
like($out, qr/^unchanged\s+-?\d+ -?\d+  SELECT id FROM notifications WHERE user_id = \$1 AND \(is_read/m,
	'its statement is unchanged');
like($out, qr/ 0 regressions$/m, 'no regression');

# staging runs release 2, which lost the parentheses
$node->safe_psql('postgres', q{SELECT guard.reset()});
$node->safe_psql('postgres', qq{$lost; SELECT count(*) FROM notifications WHERE user_id = 9;});
($ret, $out, $err) = run_pg_guard('check', '--baseline', $base);
is($ret, 1, 'release 2 fails the check (exit 1)');
like($out, qr/^regression\s+-?\d+ -?\d+  SELECT id FROM notifications WHERE user_id = \$1 AND is_read = \$2 OR is_mention = \$3$/m,
	'the lost parentheses are a regression');
like($out, qr/why: a statement new to the baseline reads public\.notifications \(about 60000 rows\) sequentially/,
	'it says why: the relation and its size');
like($out, qr/plan now:\n    Seq Scan on public\.notifications/, 'with the plan');
like($out, qr/sequentially; it differs from an approved statement only in parentheses \(query_hash -?\d+\): a lost pair of parentheses\?\n/,
	'it names the approved statement that differs only in parentheses');
like($out, qr/approved plan \(.*\):\n    (Bitmap Heap Scan|Index Scan)/,
	'and shows that statement\'s approved plan beside the new one');
like($out, qr/^unchanged\s.*user_id = \$1$/m, 'the other statement is unchanged');
like($out, qr/2 statements: 1 unchanged, 0 changed, 0 new, 1 regressions$/m, 'and counts');

# JSON, read by a JSON parser
($ret, undef, $err) = run_pg_guard('check', '--baseline', $base, '--format', 'json', '-o', "$dir/r.json");
is($ret, 1, 'json: exit 1');
my $json = `python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); r = [s for s in d["statements"] if s["verdict"] == "regression"]; print(d["summary"]["regressions"], r[0]["seqscans"][0]["relation"], r[0]["seqscans"][0]["rows"], r[0]["reason"].split(" reads ")[0])' $dir/r.json`;
is($json, "1 public.notifications 60000 a statement new to the baseline\n", 'json: a JSON parser reads the regression');

# JUnit, read by an XML parser
($ret, undef, $err) = run_pg_guard('check', '--baseline', $base, '--format', 'junit', '-o', "$dir/r.xml");
is($ret, 1, 'junit: exit 1');
my $xml = `python3 -c 'import sys, xml.etree.ElementTree as E; s = E.parse(sys.argv[1]).getroot().find("testsuite"); f = [c for c in s.findall("testcase") if c.find("failure") is not None]; print(s.get("tests"), s.get("failures"), len(f), "Seq Scan on public.notifications" in f[0].find("failure").text)' $dir/r.xml`;
is($xml, "2 1 1 True\n", 'junit: an XML parser reads one test case per statement, one failure');

# HTML: one self-contained page, read by an HTML parser, looked at in a
# headless browser as a reviewer would
($ret, undef, $err) = run_pg_guard('check', '--baseline', $base, '--format', 'html', '-o', "$dir/r.html");
is($ret, 1, 'html: exit 1');
my $html = `python3 -c '
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []; self.findings = 0; self.pre = []; self.ext = 0; self.errors = 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "link", "img", "iframe"): self.ext += 1
        if tag == "div" and a.get("class") == "finding": self.findings += 1
        if tag not in ("meta", "br"): self.stack.append(tag)
        if tag == "pre": self.pre.append("")
    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag: self.errors += 1
    def handle_data(self, d):
        if self.stack and self.stack[-1] == "pre": self.pre[-1] += d
p = P(); p.feed(open(sys.argv[1]).read())
print(p.findings, p.ext, p.errors, len(p.stack), any("Seq Scan on public.notifications" in x for x in p.pre), any("Bitmap" in x or "Index" in x for x in p.pre))
' $dir/r.html`;
is($html, "1 0 0 0 True True\n",
	'html: balanced, self-contained, one finding with the plan now beside the approved plan it replaced');
SKIP:
{
	my $browser = (grep { -x $_ } '/usr/bin/chromium', '/usr/bin/chromium-browser')[0];
	skip 'no chromium installed', 2 unless $browser;
	my $png = "$dir/r.png";
	local $ENV{HOME} = $dir;
	IPC::Run::run([ $browser, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
		'--window-size=1280,900', "--screenshot=$png", "file://$dir/r.html" ], '>', \my $o, '2>', \my $e);
	ok(-s $png && -s $png > 20000, 'html: headless Chromium renders it (screenshot of more than 20 kB)');
	my $shot = $PostgreSQL::Test::Utils::log_path . '/pg_guard_check.png';
	File::Copy::copy($png, $shot);
	note "screenshot kept in $shot";
	# a blank page compresses to almost nothing: the report has text and colour
	my $colours = `python3 -c '
import sys, zlib, struct
d = open(sys.argv[1], "rb").read()
w, h = struct.unpack(">II", d[16:24])
idat = b"".join(d[i+8:i+8+struct.unpack(">I", d[i:i+4])[0]] for i in range(8, len(d)) if d[i+4:i+8] == b"IDAT")
print(len(set(zlib.decompress(idat)[:w * 4 * 300])) > 20)
' $png 2>/dev/null`;
	is($colours, "True\n", 'html: the screenshot is not blank');
}

# a threshold above the table: nothing is large
($ret, $out) = run_pg_guard('check', '--baseline', $base, '--min-rows', '1000000');
is($ret, 0, '--min-rows above the table: exit 0');
like($out, qr/^new\s.*OR is_mention = \$3$/m, 'the statement is new, no regression');

# an index lost between releases: the approved plan read it, the new one scans
$node->safe_psql('postgres', q{SELECT guard.reset(); DROP INDEX notifications_user;});
$node->safe_psql('postgres', $good);
($ret, $out) = run_pg_guard('check', '--baseline', $base);
is($ret, 1, 'a lost index fails the check');
like($out, qr/why: a new sequential scan of public\.notifications \(about 60000 rows\), which the approved plan reads otherwise/,
	'as a changed plan of an approved statement');
like($out, qr/approved plan .*:\n    Bitmap Heap Scan on public\.notifications|approved plan .*:\n    Index Scan/,
	'with the approved plan beside the new one');

# SQL files: planned, never executed; where each statement starts is kept
my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM notifications');
$node->safe_psql('postgres', q{SELECT guard.reset(); CREATE INDEX notifications_user ON notifications(user_id);});
my $sqlfile = "$dir/release2.sql";
open(my $fh, '>', $sqlfile) or die;
print $fh "-- release 2: the inbox\n"
  . "SELECT id FROM notifications\n WHERE user_id = \$1 AND (is_read = false OR is_mention = true);\n"
  . "/* a comment; with a semicolon */\n"
  . "CREATE TEMP TABLE skipped(x int);\n"
  . "SELECT 'a;b' AS s, \$\$c;d\$\$ AS t;\n"
  . "SELECT id FROM notifications\n"
  . " WHERE user_id = 5 AND is_read = false OR is_mention = true;\n";
close $fh;
($ret, $out, $err) = run_pg_guard('check', '--baseline', $base, $sqlfile);
is($ret, 1, 'a SQL file with the lost parentheses fails the check') or diag $err;
like($out, qr/^regression .*SELECT id FROM notifications \.\.\.\n  where: \Q$sqlfile\E:7\n  why: a statement new to the baseline reads public\.notifications/m,
	'the regression names the file and the line the statement starts on');
like($out, qr/^unchanged .*SELECT id FROM notifications \.\.\.$/m,
	'the good statement of the file (with $n) is the approved one');
like($out, qr/4 statements: 1 unchanged, 0 changed, 1 new, 1 regressions, 1 skipped$/m,
	'strings and dollar quotes with semicolons are one statement; a utility statement is skipped');
like($out, qr/^skipped .*CREATE TEMP TABLE skipped\(x int\)\n  where: \Q$sqlfile\E:5\n  why: not planned: a utility statement/m,
	'and said, with its place');
is($node->safe_psql('postgres', q{SELECT count(*) FROM guard.plans WHERE calls > 0 AND query LIKE '%notifications%'}), '0',
	'nothing was executed');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 'skipped'}), '0',
	'not even the utility statement');

# GitHub annotations
($ret, $out) = run_pg_guard('check', '--baseline', $base, '--format', 'github', $sqlfile);
is($ret, 1, 'github: exit 1');
like($out, qr/^::error file=\Q$sqlfile\E,line=7,title=guard regression::a statement new to the baseline reads public\.notifications \(about 60000 rows\) sequentially: SELECT id FROM notifications \.\.\.$/m,
	'github: an error annotation at the file and line');
like($out, qr/^::notice title=pg_guard check::\d+ statements against .*: 1 unchanged, 0 changed, \d+ new, 1 regressions, 0 ignored, 1 skipped$/m, 'github: a summary notice');
like($out, qr/^::warning file=\Q$sqlfile\E,line=5,title=guard: statement not planned::/m, 'github: a warning for the skipped statement');

# a statement the server cannot plan ends the check, naming the place
open($fh, '>', "$dir/bad.sql") or die;
print $fh "SELECT 1;\nSELECT nope FROM nowhere;\n";
close $fh;
($ret, undef, $err) = run_pg_guard('check', '--baseline', $base, "$dir/bad.sql");
is($ret, 2, 'an unplannable statement: exit 2');
like($err, qr/bad\.sql:2: the server could not plan the statement: relation "nowhere" does not exist$/m,
	'with the file, the line and the reason');

# the check's config file: ignore rules with an owner and an expiry,
# relations that must never be read sequentially, allowed seq scans
$node->safe_psql('postgres', q{CREATE TABLE prefs(k int, v text); INSERT INTO prefs SELECT g, 'x' FROM generate_series(1, 50) g; ANALYZE prefs;});
sub config
{
	my ($name, $body) = @_;
	open(my $fh, '>', "$dir/$name") or die;
	print $fh "format: guard-check\nversion: 1\n$body";
	close $fh;
	return "$dir/$name";
}
my $ignore = config('ignore.yaml', qq{ignore:\n  - query: "SELECT id FROM notifications WHERE user_id = \$1 AND is_read = \$2 OR is_mention = \$3"\n    owner: "alice"\n    expires: "2999-12-31"\n    reason: "ticket 42: fixed in release 3"\n});
$node->safe_psql('postgres', q{SELECT guard.reset()});
$node->safe_psql('postgres', $lost);
($ret, $out) = run_pg_guard('check', '--baseline', $base, '--config', $ignore);
is($ret, 0, 'an ignore rule in force: exit 0');
like($out, qr/^ignored .*\n  why: .* ignored until 2999-12-31 by alice: ticket 42: fixed in release 3$/m,
	'the regression is reported as ignored, with owner, expiry and reason');
my $expired = config('expired.yaml', qq{ignore:\n  - query_hash: "0"\n    owner: "bob"\n    expires: "2020-01-01"\n    reason: "old"\n  - query: "SELECT id FROM notifications WHERE user_id = \$1 AND is_read = \$2 OR is_mention = \$3"\n    owner: "alice"\n    expires: "2020-01-01"\n    reason: "too late"\n});
($ret, $out) = run_pg_guard('check', '--baseline', $base, '--config', $expired);
is($ret, 1, 'an expired ignore rule no longer applies: exit 1');
like($out, qr/\(the ignore rule of alice expired on 2020-01-01\)/, 'and the report says so');
my $strict = config('strict.yaml', qq{must_not_seqscan: [public.prefs]\nallow_seqscan: ["public.notifications"]\n});
$node->safe_psql('postgres', q{SELECT count(*) FROM prefs WHERE v = 'y'});
($ret, $out) = run_pg_guard('check', '--baseline', $base, '--config', $strict);
is($ret, 1, 'must_not_seqscan: exit 1');
like($out, qr/why: reads public\.prefs \(about 50 rows\) sequentially, which the config says must never be/,
	'a small relation the config protects is a regression');
like($out, qr/^new\s.*OR is_mention = \$3$/m, 'an allowed seq scan is no regression');
my %badcfg = (
	'an unknown key' => [ "colour: red\n", qr/:3:1: unknown key "colour"/ ],
	'a bad date' => [ qq{ignore:\n  - query_hash: "1"\n    owner: "x"\n    expires: "2027-02-30"\n    reason: "r"\n}, qr/:6:14: expires must be a date, YYYY-MM-DD/ ],
	'a rule without owner' => [ qq{ignore:\n  - query_hash: "1"\n    expires: "2027-02-01"\n    reason: "r"\n}, qr/:4:5: missing key "owner"/ ],
	'a rule naming its statement twice' => [ qq{ignore:\n  - query_hash: "1"\n    query: "SELECT 1"\n    owner: "x"\n    expires: "2027-02-01"\n    reason: "r"\n}, qr/:4:5: an ignore rule names its statement by query_hash or by query/ ],
	'a name without schema' => [ "must_not_seqscan: [prefs]\n", qr/:3:20: must_not_seqscan: write a relation as schema\.name/ ],
	'another format' => [ "", qr/./ ],
);
for my $case (sort keys %badcfg)
{
	my $f = config('bad.yaml', $badcfg{$case}[0]);
	if ($case eq 'another format')
	{
		open(my $fh, '>', $f) or die;
		print $fh "format: guard-baseline\nversion: 1\n";
		close $fh;
		$badcfg{$case}[1] = qr/:1:9: format must be "guard-check"/;
	}
	($ret, undef, $err) = run_pg_guard('check', '--baseline', $base, '--config', $f);
	is($ret, 2, "config with $case: exit 2");
	like($err, $badcfg{$case}[1], "config with $case: the message names it and its place");
}

# found by review
# a role that may not see other roles' plans would judge them blind
$node->safe_psql('postgres', q{CREATE ROLE ci LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ci; GRANT USAGE ON SCHEMA guard TO ci; GRANT SELECT ON guard.plans TO ci;});
{
	local $ENV{PGUSER} = 'ci';
	($ret, undef, $err) = run_pg_guard('check', '--baseline', $base);
}
is($ret, 2, 'a role that cannot see the plans: exit 2');
like($err, qr/observed plans are of roles whose statements role "ci" may not see; run pg_guard check as a superuser or a role granted pg_read_all_stats/,
	'and says which privilege it needs');
# a statement that mentions pg_guard's mark is still the application's
$node->safe_psql('postgres', q{SELECT guard.reset()});
$node->safe_psql('postgres', q{SELECT count(*) AS pg_guard_internal_x FROM notifications WHERE body > 'a' /* pg_guard_internal */});
($ret, $out) = run_pg_guard('check', '--baseline', $base);
is($ret, 1, 'a statement mentioning pg_guard_internal is judged');
like($out, qr/^regression .*pg_guard_internal_x/m, 'as a regression');
# a NUL byte, a FIFO: refused
open($fh, '>', "$dir/nul.sql") or die;
print $fh "SELECT 1;\n\0junk\nSELECT 2;\n";
close $fh;
($ret, undef, $err) = run_pg_guard('check', '--baseline', $base, "$dir/nul.sql");
is($ret, 2, 'a NUL byte in a SQL file: exit 2');
like($err, qr/nul\.sql:2: a NUL byte/, 'with its line');
system('mkfifo', "$dir/fifo.sql");
($ret, undef, $err) = run_pg_guard('check', '--baseline', $base, "$dir/fifo.sql");
is($ret, 2, 'a FIFO: exit 2, no hang');
like($err, qr/fifo\.sql: not a regular file/, 'as not a regular file');
# an expired rejection is no decision; an ignore rule never clears a rejection
$node->safe_psql('postgres', q{SELECT guard.reset()});
$node->safe_psql('postgres', q{SELECT count(*) FROM notifications WHERE user_id = 11});
my ($qh, $ph) = split /\|/, $node->safe_psql('postgres',
	q{SELECT query_hash, plan_hash FROM guard.plans WHERE query = 'SELECT count(*) FROM notifications WHERE user_id = $1'});
sub rejecting
{
	my ($until) = @_;
	my $f = "$dir/rejected.yaml";
	open(my $fh, '>', $f) or die;
	print $fh qq{format: guard-baseline\nversion: 1\nentries:\n  - query_hash: "$qh"\n    plan_hash: "$ph"\n    fingerprint_rules: 2\n    status: rejected\n    expires_at: "$until"\n    query: "SELECT count(*) FROM notifications WHERE user_id = \$1"\n};
	close $fh;
	return $f;
}
($ret, $out) = run_pg_guard('check', '--baseline', rejecting('2020-01-01T00:00:00Z'));
is($ret, 0, 'a rejection that expired is no regression') or diag $out;
my $cover = config('cover.yaml', qq{ignore:\n  - query: "SELECT count(*) FROM notifications WHERE user_id = \$1"\n    owner: "carol"\n    expires: "2999-12-31"\n    reason: "r"\n});
($ret, $out) = run_pg_guard('check', '--baseline', rejecting('2999-01-01T00:00:00Z'), '--config', $cover);
is($ret, 1, 'an ignore rule does not clear a plan the baseline rejects');
like($out, qr/why: the baseline rejects this plan$/m, 'it stays rejected');
# a renewed ignore rule wins over the expired one before it
my $renewed = config('renewed.yaml', qq{ignore:\n  - query: "SELECT id FROM notifications WHERE user_id = \$1 AND is_read = \$2 OR is_mention = \$3"\n    owner: "alice"\n    expires: "2020-01-01"\n    reason: "old"\n  - query: "SELECT id FROM notifications WHERE user_id = \$1 AND is_read = \$2 OR is_mention = \$3"\n    owner: "alice"\n    expires: "2999-01-01"\n    reason: "renewed"\n});
$node->safe_psql('postgres', $lost);
($ret, $out) = run_pg_guard('check', '--baseline', $base, '--config', $renewed);
is($ret, 0, 'a renewed ignore rule applies although an expired one comes first');
# names in the config: checked against the catalog, partitions as their root
my $typo = config('typo.yaml', "must_not_seqscan: [public.notificatons]\n");
($ret, undef, $err) = run_pg_guard('check', '--baseline', $base, '--config', $typo);
is($ret, 2, 'a config naming no relation: exit 2');
like($err, qr/"public\.notificatons" is no relation of database "postgres"/, 'and says which');
# the baseline's path cannot inject GitHub commands
my $odd = "$dir/base\n::error file=evil.sql,line=1::INJECTED.yaml";
File::Copy::copy($base, $odd);
($ret, $out) = run_pg_guard('check', '--baseline', $odd, '--format', 'github');
unlike($out, qr/^::error file=evil\.sql/m, 'github: the baseline path is escaped');

# usage
($ret, undef, $err) = run_pg_guard('check');
is($ret, 2, 'check without --baseline: exit 2');
like($err, qr/check needs --baseline FILE/, 'and says so');
($ret, undef, $err) = run_pg_guard('check', '--baseline', $base, '--format', 'html5');
is($ret, 2, 'an unknown format: exit 2');
($ret, undef, $err) = run_pg_guard('baseline', 'export', '--baseline', $base);
is($ret, 2, 'an option of another command: exit 2');

$node->stop;
done_testing();
