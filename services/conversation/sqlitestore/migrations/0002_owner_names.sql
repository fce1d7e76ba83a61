-- The user name each owner (token subject) last created a conversation with, for the
-- administrators' counts (CountOwners). A name, never content; kept when the owner's
-- conversations are deleted.
CREATE TABLE owner_names (
  owner TEXT PRIMARY KEY,
  name TEXT NOT NULL
) WITHOUT ROWID;
