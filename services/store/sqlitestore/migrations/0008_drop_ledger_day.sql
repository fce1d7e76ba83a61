-- ListUsage read the ledger through ledger_day (day, user, model); it reads usage_daily now
-- (0007), and no query of the ledger filters by day: the index only cost every settle a
-- b-tree insert (and its pages in the write-ahead log).
DROP INDEX IF EXISTS ledger_day;
