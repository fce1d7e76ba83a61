//go:build lambda.norpc

package main

import (
	"context"
	"errors"

	"github.com/portico-dev/portico/services/apikey"
	"github.com/portico-dev/portico/services/conversation"
	"github.com/portico-dev/portico/services/store"
)

// openSQLite refuses: Lambda builds (-tags lambda.norpc) leave SQLite out.
func openSQLite(context.Context, string, store.Options) (store.Store, error) {
	return nil, errors.New("PORTICO_STORE: SQLite is not in Lambda builds; use dynamodb:<table>")
}

// openConversationSQLite refuses: Lambda builds leave SQLite out.
func openConversationSQLite(context.Context, string) (conversation.Store, error) {
	return nil, errors.New("PORTICO_CONVERSATION_STORE: SQLite is not in Lambda builds; use dynamodb:<table>")
}

// openSQLiteKeys refuses: Lambda builds leave SQLite out.
func openSQLiteKeys(context.Context, string) (apikey.Store, error) {
	return nil, errors.New("PORTICO_KEY_STORE: SQLite is not in Lambda builds; use dynamodb:<table>")
}
