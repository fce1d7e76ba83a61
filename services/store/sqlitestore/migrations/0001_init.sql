-- Quota counters: one row per subject, unit, window and window start (store.CounterKey).
CREATE TABLE counters (
  key       TEXT PRIMARY KEY,
  used      INTEGER NOT NULL DEFAULT 0,
  reserved  INTEGER NOT NULL DEFAULT 0,
  resets_at INTEGER NOT NULL -- unix nanos
) WITHOUT ROWID;
CREATE INDEX counters_resets_at ON counters (resets_at);

-- Reservations in flight: their holds (JSON) are released when they settle or expire.
CREATE TABLE reservations (
  request_id TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL, -- unix nanos
  holds      TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX reservations_expires_at ON reservations (expires_at);

-- The usage ledger: one row per settled request, which is also its audit record.
CREATE TABLE ledger (
  request_id          TEXT PRIMARY KEY,
  time_ns             INTEGER NOT NULL,
  day                 TEXT NOT NULL, -- YYYY-MM-DD, UTC
  subject             TEXT NOT NULL,
  user                TEXT NOT NULL,
  groups              TEXT NOT NULL, -- JSON array, sorted
  client_id           TEXT NOT NULL,
  procedure           TEXT NOT NULL,
  model_id            TEXT NOT NULL,
  outcome             TEXT NOT NULL,
  error_message       TEXT NOT NULL,
  input_tokens        INTEGER NOT NULL,
  output_tokens       INTEGER NOT NULL,
  usage_estimated     INTEGER NOT NULL,
  cost_nanos          INTEGER NOT NULL,
  price_table_version TEXT NOT NULL,
  latency_ns          INTEGER NOT NULL,
  ttft_ns             INTEGER NOT NULL,
  stop_reason         TEXT NOT NULL,
  upstream_request_id TEXT NOT NULL,
  source_ip           TEXT NOT NULL,
  user_agent          TEXT NOT NULL,
  late                INTEGER NOT NULL
);
CREATE INDEX ledger_time ON ledger (time_ns DESC, request_id DESC);
CREATE INDEX ledger_user_time ON ledger (user, time_ns DESC, request_id DESC);
CREATE INDEX ledger_day ON ledger (day, user, model_id);
