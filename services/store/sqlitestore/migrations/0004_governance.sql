-- Chargeback: the caller's department (the identity provider's department claim), and what an
-- administrative action did (a policy change), on every record.
ALTER TABLE ledger ADD COLUMN department TEXT NOT NULL DEFAULT '';
ALTER TABLE ledger ADD COLUMN detail TEXT NOT NULL DEFAULT '';

-- The policy as numbered versions (store.PolicyVersion): 1, 2, 3, ... with no gap; the
-- highest is in force.
CREATE TABLE policy_versions (
  version          INTEGER PRIMARY KEY,
  time_ns          INTEGER NOT NULL,
  author           TEXT NOT NULL,
  author_subject   TEXT NOT NULL,
  kind             TEXT NOT NULL,
  restored_version INTEGER NOT NULL,
  comment          TEXT NOT NULL,
  changes          TEXT NOT NULL, -- JSON array of strings
  yaml             TEXT NOT NULL
);

-- Quota alerts: one row per (counter, threshold) that was crossed, so each alert is sent once
-- per threshold per window (store.AlertMark).
CREATE TABLE alert_marks (
  counter_key TEXT NOT NULL,
  threshold   INTEGER NOT NULL,
  user        TEXT NOT NULL,
  department  TEXT NOT NULL,
  limit_json  TEXT NOT NULL,
  used        INTEGER NOT NULL,
  reserved    INTEGER NOT NULL,
  resets_at   INTEGER NOT NULL, -- unix nanos
  time_ns     INTEGER NOT NULL,
  PRIMARY KEY (counter_key, threshold)
) WITHOUT ROWID;
CREATE INDEX alert_marks_resets_at ON alert_marks (resets_at);
