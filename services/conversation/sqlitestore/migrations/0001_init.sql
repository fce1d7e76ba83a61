-- Conversations and their messages. Times are Unix nanoseconds; expires 0 means never.
CREATE TABLE conversations (
  rowid INTEGER PRIMARY KEY,
  owner TEXT NOT NULL,
  id TEXT NOT NULL,
  title TEXT NOT NULL,
  pinned INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  model_id TEXT NOT NULL DEFAULT '',
  message_count INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  next_seq INTEGER NOT NULL DEFAULT 1,
  expires INTEGER NOT NULL DEFAULT 0,
  UNIQUE (owner, id)
);
CREATE INDEX conversations_list ON conversations (owner, pinned DESC, updated DESC, id DESC);
CREATE INDEX conversations_expiry ON conversations (expires) WHERE expires > 0;

CREATE TABLE messages (
  rowid INTEGER PRIMARY KEY,
  owner TEXT NOT NULL,
  conversation TEXT NOT NULL,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL,
  body BLOB NOT NULL,
  bytes INTEGER NOT NULL,
  UNIQUE (owner, conversation, seq),
  UNIQUE (owner, conversation, id)
);

-- Full-text indexes; rowid is the rowid of the message or conversation. The owner column
-- holds one token per owner (ownerToken), so a search intersects with the owner's rows in
-- the index instead of filtering everyone's matches.
CREATE VIRTUAL TABLE message_fts USING fts5(owner, text, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE title_fts USING fts5(owner, title, tokenize = 'unicode61 remove_diacritics 2');
