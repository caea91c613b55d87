-- Schema for test/pg18/crossversion.sh: small tables (ANALYZE samples every
-- row below 30000), so that 15 and 18 see the same statistics.
CREATE EXTENSION guard;
CREATE TABLE users(id int PRIMARY KEY, name text, team int);
CREATE TABLE notes(id int PRIMARY KEY, user_id int, body text, flag bool);
CREATE INDEX notes_user ON notes(user_id);
CREATE TABLE archive(id int PRIMARY KEY, body text);
CREATE TABLE events(k int, v int) PARTITION BY LIST (k);
CREATE TABLE events_1 PARTITION OF events FOR VALUES IN (1);
CREATE TABLE events_2 PARTITION OF events FOR VALUES IN (2);
CREATE TABLE events_3 PARTITION OF events FOR VALUES IN (3);
CREATE INDEX ON events(v);
INSERT INTO users SELECT g, 'u' || g, g % 50 FROM generate_series(1, 5000) g;
INSERT INTO notes SELECT g, g % 5000, 'n' || g, g % 3 = 0 FROM generate_series(1, 25000) g;
INSERT INTO archive SELECT g, 'a' FROM generate_series(1, 100) g;
INSERT INTO events SELECT 1 + g % 3, g FROM generate_series(1, 9000) g;
VACUUM ANALYZE;
