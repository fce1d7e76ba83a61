-- The prefix of the personal API key a request was made with (services/apikey); '' for
-- requests made with a sign-in or client-credentials token.
ALTER TABLE ledger ADD COLUMN api_key TEXT NOT NULL DEFAULT '';
