-- Where a record's token counts come from: reported, estimated or clamped (store.UsageSource).
-- Records written before it have '' and are read as their usage_estimated flag implies.
ALTER TABLE ledger ADD COLUMN usage_source TEXT NOT NULL DEFAULT '';
