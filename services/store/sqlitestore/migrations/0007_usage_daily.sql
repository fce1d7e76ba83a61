-- Usage summaries: one row per (day, user, groups, model, department), the sums of that
-- combination's ledger rows, kept in the same transaction as each ledger insert. Usage and
-- ListUsage read these rows, so their cost depends on how many combinations a range holds,
-- never on how many requests were made. Every figure saturates at the largest integer.
CREATE TABLE usage_daily (
  day           TEXT NOT NULL, -- YYYY-MM-DD, UTC
  user          TEXT NOT NULL,
  groups        TEXT NOT NULL, -- JSON array, as in the ledger
  model_id      TEXT NOT NULL,
  department    TEXT NOT NULL,
  requests      INTEGER NOT NULL,
  errors        INTEGER NOT NULL,
  input_tokens  INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cost_nanos    INTEGER NOT NULL,
  PRIMARY KEY (day, user, groups, model_id, department)
) WITHOUT ROWID;
CREATE INDEX usage_daily_user ON usage_daily (user, day);

-- The ledger written before this migration, summed. A column's sum is taken in two halves
-- (its high and low 32 bits) so that no sum overflows, then joined, saturating.
INSERT INTO usage_daily
SELECT day, user, groups, model_id, department, n, e,
  CASE WHEN ih >= 2147483648 OR (ih << 32) > 9223372036854775807 - il THEN 9223372036854775807 ELSE (ih << 32) + il END,
  CASE WHEN oh >= 2147483648 OR (oh << 32) > 9223372036854775807 - ol THEN 9223372036854775807 ELSE (oh << 32) + ol END,
  CASE WHEN ch >= 2147483648 OR (ch << 32) > 9223372036854775807 - cl THEN 9223372036854775807 ELSE (ch << 32) + cl END
FROM (
  SELECT day, user, groups, model_id, department, count(*) AS n, sum(outcome != 'ok') AS e,
    sum(input_tokens >> 32) AS ih, sum(input_tokens & 4294967295) AS il,
    sum(output_tokens >> 32) AS oh, sum(output_tokens & 4294967295) AS ol,
    sum(cost_nanos >> 32) AS ch, sum(cost_nanos & 4294967295) AS cl
  FROM ledger GROUP BY day, user, groups, model_id, department
);
