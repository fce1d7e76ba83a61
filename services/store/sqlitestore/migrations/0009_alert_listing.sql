-- ListAlerts pages through the marks of the current windows, one per counter (its highest
-- threshold), in store.AlertMark.ListKey order: list_key holds that key, superseded is 1 on
-- a mark whose counter has a higher threshold marked, and the partial index serves a page
-- of one window as one range of itself, however many marks there are. The table is rebuilt
-- (rather than altered) so that the migration can run again over its own result.
CREATE TABLE alert_marks_0009 (
  counter_key TEXT NOT NULL,
  threshold   INTEGER NOT NULL,
  user        TEXT NOT NULL,
  department  TEXT NOT NULL,
  limit_json  TEXT NOT NULL,
  used        INTEGER NOT NULL,
  reserved    INTEGER NOT NULL,
  resets_at   INTEGER NOT NULL, -- unix nanos
  time_ns     INTEGER NOT NULL,
  list_key    TEXT NOT NULL,    -- store.AlertMark.ListKey
  superseded  INTEGER NOT NULL, -- 1 when the counter has a higher threshold marked
  PRIMARY KEY (counter_key, threshold)
) WITHOUT ROWID;
INSERT INTO alert_marks_0009
SELECT counter_key, threshold, user, department, limit_json, used, reserved, resets_at, time_ns,
  printf('%03d#%019d#%s', 999 - threshold, 9223372036854775807 - max(time_ns, 0), counter_key),
  EXISTS (SELECT 1 FROM alert_marks higher WHERE higher.counter_key = m.counter_key AND higher.threshold > m.threshold)
FROM alert_marks m;
DROP TABLE alert_marks;
ALTER TABLE alert_marks_0009 RENAME TO alert_marks;
CREATE INDEX alert_marks_resets_at ON alert_marks (resets_at);
CREATE INDEX alert_marks_listed ON alert_marks (resets_at, list_key) WHERE superseded = 0;
