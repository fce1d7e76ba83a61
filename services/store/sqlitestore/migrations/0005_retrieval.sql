-- The knowledge-base retrieval a request grounded its answer in (store.Retrieval): the
-- knowledge base, how many passages, how long; never their text. Empty/0 for other requests.
ALTER TABLE ledger ADD COLUMN kb_id TEXT NOT NULL DEFAULT '';
ALTER TABLE ledger ADD COLUMN kb_passages INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ledger ADD COLUMN kb_latency_ns INTEGER NOT NULL DEFAULT 0;
