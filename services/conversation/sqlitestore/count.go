package sqlitestore

import (
	"context"

	"github.com/portico-dev/portico/services/conversation"
)

// CountOwners returns a page of owners' counts, by owner. See conversation.Store. One
// grouped read of the conversations table (its (owner, id) index) with each owner's name,
// no message read: the summaries hold each conversation's messages and bytes.
func (s *Store) CountOwners(ctx context.Context, size int, token string) ([]conversation.OwnerCount, string, error) {
	after := ""
	if token != "" {
		parts, err := conversation.DecodeCountToken(token, 1)
		if err != nil {
			return nil, "", err
		}
		after = parts[0]
	}
	rows, err := s.db.QueryContext(ctx, `SELECT c.owner, COALESCE((SELECT name FROM owner_names WHERE owner = c.owner), ''),
		COUNT(*), SUM(c.message_count), SUM(c.bytes) FROM conversations c
		WHERE c.owner > ? GROUP BY c.owner ORDER BY c.owner LIMIT ?`, after, size+1)
	if err != nil {
		return nil, "", conversation.Unavailable("count owners", err)
	}
	defer func() { _ = rows.Close() }()
	var out []conversation.OwnerCount
	for rows.Next() {
		var c conversation.OwnerCount
		if err := rows.Scan(&c.Owner, &c.Name, &c.Conversations, &c.Messages, &c.Bytes); err != nil {
			return nil, "", conversation.Unavailable("count owners", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", conversation.Unavailable("count owners", err)
	}
	next := ""
	if len(out) > size {
		out = out[:size]
		next = conversation.EncodeCountToken(out[size-1].Owner)
	}
	return out, next, nil
}
