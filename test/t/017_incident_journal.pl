# The incidents journal: what several backends alerted is replayed after a
# crash although no full save ran; a torn or damaged journal tail is skipped
# with a LOG line; when no incident id can be reserved on disk, new
# incidents are dropped and counted, never numbered above the ceiling.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('journal');
$node->init;
# no notifier can start (no worker slot): nothing but the journal and the
# start-up save write the incidents
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'guard'
max_parallel_workers_per_gather = 0
max_worker_processes = 0
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION guard;
	CREATE TABLE big(id int PRIMARY KEY, v int);
	INSERT INTO big SELECT g, g FROM generate_series(1, 20000) g;
	ANALYZE big;
	CREATE ROLE r1 LOGIN; CREATE ROLE r2 LOGIN; CREATE ROLE r3 LOGIN;
	GRANT SELECT ON big TO r1, r2, r3;
});
my $stat = $node->data_dir . '/pg_stat';
my $main = "$stat/guard_incidents.stat";

# the incident ids and queries of the LOG lines since $logstart
sub logged
{
	my ($logstart) = @_;
	my %ids;
	my $log = slurp_file($node->logfile, $logstart);
	$ids{$1} = 1 while $log =~ /guard incident \{"incident_id": (\d+),/g;
	return sort { $a <=> $b } keys %ids;
}

sub journals
{
	opendir(my $dh, $stat) or die "opendir $stat: $!";
	my @j = map { "$stat/$_" } grep { /^guard_incidents\.journal\.\d+$/ } readdir($dh);
	closedir($dh);
	return @j;
}

# crash the server through a backend
sub crash
{
	my $victim = $node->background_psql('postgres');
	my $pid = $victim->query_safe('SELECT pg_backend_pid()');
	my $logstart = -s $node->logfile;
	kill 'KILL', $pid;
	ok($node->wait_for_log(qr/all server processes terminated; reinitializing/, $logstart),
		'the server restarts after the crash');
	eval { $victim->quit; };
	$node->poll_query_until('postgres', 'SELECT true') or die 'no restart';
}

# --- several backends alert at once, then a crash: the journal has them
my $logstart = -s $node->logfile;
my @sessions;
for my $i (1 .. 6)
{
	my $role = 'r' . (1 + $i % 3);
	my $s = $node->background_psql('postgres', on_error_stop => 0,
		extra_params => [ '-U', $role ]);
	push @sessions, $s;
	my $cols = join(', ', ('v') x $i);
	$s->query_until(qr/^$/, "SELECT $cols FROM big WHERE v > 0 LIMIT 0;\n");
}
for (1 .. 100)
{
	my @l = logged($logstart);
	last if @l == 6;
	usleep(100_000);
}
my @ids = logged($logstart);
is(scalar(@ids), 6, 'six backends logged six incidents');
my @j = journals();
ok(@j >= 1 && index(join('', map { slurp_file($_) } @j), 'v, v, v, v, v, v FROM big') >= 0,
	'they are in the journal');
ok(index(slurp_file($main), 'LIMIT') < 0, 'and not in the full file (no save ran)');
$_->quit for @sessions;

$logstart = -s $node->logfile;
crash();
ok($node->log_contains(qr/guard replayed 6 incident records from "pg_stat\/guard_incidents\.journal\.\d+"/, $logstart),
	'the journal was replayed at the crash restart');
is($node->safe_psql('postgres', q{SELECT string_agg(incident_id::text, ',' ORDER BY incident_id) FROM guard.incidents WHERE query LIKE 'SELECT v%FROM big%'}),
	join(',', @ids), 'every logged incident survived the crash, under its logged id');
is($node->safe_psql('postgres', q{SELECT count(DISTINCT userid) FROM guard.incidents}),
	'3', 'with the roles that raised them');
ok(index(slurp_file($main), 'LIMIT') >= 0, 'the start-up save folded the journal into the full file');

# --- a damaged record and a torn tail are skipped, the rest replayed
$logstart = -s $node->logfile;
for my $q ('SELECT id FROM big WHERE v > 0 LIMIT 0', 'SELECT id, id FROM big WHERE v > 0 LIMIT 0',
	'SELECT id, id, id FROM big WHERE v > 0 LIMIT 0')
{
	$node->psql('postgres', $q);
}
my @three = logged($logstart);
is(scalar(@three), 3, 'three more incidents logged');
# nothing saves while no notifier runs: the journal is all there is
@j = journals();
is(scalar(@j), 1, 'one journal is left');
my $data = slurp_file($j[0]);
my @offsets;
for (my $pos = 0; $pos + 8 <= length($data);)
{
	push @offsets, $pos;
	$pos += unpack('V', substr($data, $pos + 4, 4));
}
is(scalar(@offsets), 3, 'the journal holds three records');
open(my $fh, '+<', $j[0]) or die;
binmode $fh;
seek($fh, $offsets[1] + 100, 0);	# the second record: one byte flipped
print $fh chr(ord(substr($data, $offsets[1] + 100, 1)) ^ 0xff);
truncate($fh, length($data) - 7);	# the third: torn by the crash
close $fh;
$logstart = -s $node->logfile;
# the crash restart reads the damaged journal (a clean stop would fold it
# into the full file; a kill -9 of the postmaster would leave its children)
crash();
ok($node->log_contains(qr/ignoring \d+ damaged bytes at offset $offsets[1] of file "pg_stat\/guard_incidents\.journal\.\d+"/, $logstart),
	'the damaged bytes are reported');
ok($node->log_contains(qr/guard replayed 1 incident records/, $logstart),
	'the record before them was replayed');
is($node->safe_psql('postgres', q{SELECT string_agg(incident_id::text, ',' ORDER BY incident_id) FROM guard.incidents WHERE query LIKE 'SELECT id%'}),
	$three[0], 'only the intact incident is back');
$node->psql('postgres', 'SELECT v, id FROM big WHERE v > 0 LIMIT 0');
cmp_ok($node->safe_psql('postgres', q{SELECT incident_id FROM guard.incidents WHERE query LIKE 'SELECT v, id%'}),
	'>', $three[2], 'new ids go on above the lost ones');

# --- no id can be reserved on disk: the new incident is dropped, not numbered
$node->restart;					# the ids file now records the next id itself
chmod(0555, $stat) or die;
$logstart = -s $node->logfile;
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT id, v, id FROM big WHERE v > 0 LIMIT 0');
chmod(0700, $stat) or die;
like($err, qr/WARNING:  could not write file "pg_stat\/guard_incidents\.ids\.tmp\.\d+"/,
	'the failed reservation is a WARNING');
is($ret, 0, 'and the statement runs');
is($node->safe_psql('postgres', q{SELECT count(*) FROM guard.incidents WHERE query LIKE 'SELECT id, v, id%'}),
	'0', 'the incident is not recorded without a reserved id');
is($node->safe_psql('postgres', 'SELECT incidents_dropped FROM guard.info'), '1', 'but counted');
sleep 2;						# failed reservations are retried after a second
$node->psql('postgres', 'SELECT id, v, id FROM big WHERE v > 0 LIMIT 0');
is($node->safe_psql('postgres', q{SELECT count(*) FROM guard.incidents WHERE query LIKE 'SELECT id, v, id%'}),
	'1', 'once the ids file can be written, it is');

$node->stop;
done_testing();
