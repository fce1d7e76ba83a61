package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/portico-dev/portico/services/conversation"
	"github.com/portico-dev/portico/services/conversation/dynamostore"
	"github.com/portico-dev/portico/services/store"
)

// Environment variables of the conversation store (docs/contracts.md), read only when the
// inference service is mounted: the ConversationService is mounted with it.
//
//nolint:gosec // names of environment variables, not credentials
const (
	EnvConversationStore         = "PORTICO_CONVERSATION_STORE"
	EnvConversationRetentionDays = "PORTICO_CONVERSATION_RETENTION_DAYS"
	EnvConversationsPerUser      = "PORTICO_CONVERSATIONS_PER_USER"
	EnvMessagesPerConversation   = "PORTICO_MESSAGES_PER_CONVERSATION"
	EnvConversationMaxBytes      = "PORTICO_CONVERSATION_MAX_BYTES"
)

// defaultConversationStore is the development store, beside the quota store's default.
const defaultConversationStore = "sqlite:.data/conversations.db"

// maxRetentionDays bounds PORTICO_CONVERSATION_RETENTION_DAYS (100 years).
const maxRetentionDays = 36500

// conversationConfig is the conversation store's configuration.
type conversationConfig struct {
	// store is sqlite:<path> or dynamodb:<table>.
	store string
	// retentionDays is how long a conversation is kept after its latest message; 0 keeps it.
	retentionDays int
	// limits bound what one person keeps.
	limits conversation.Limits
}

// readConversations reads the conversation settings through get; devDefault applies the
// development default of a setting production must name.
func readConversations(get func(string) string, devDefault func(name, def string) string) (conversationConfig, []error) {
	var errs []error
	c := conversationConfig{store: devDefault(EnvConversationStore, defaultConversationStore), limits: conversation.DefaultLimits()}
	if c.store != "" {
		if _, err := store.ParseSpec(c.store); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", EnvConversationStore, c.store, err))
		}
	}
	intVar := func(name string, def, maxV int64) int64 {
		v := get(name)
		if v == "" {
			return def
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > maxV {
			errs = append(errs, fmt.Errorf("%s=%q: want a whole number from 0 to %d", name, v, maxV))
			return def
		}
		return n
	}
	c.retentionDays = int(intVar(EnvConversationRetentionDays, 0, maxRetentionDays))
	c.limits.ConversationsPerUser = int(intVar(EnvConversationsPerUser, conversation.DefaultConversationsPerUser, 1_000_000))
	c.limits.MessagesPerConversation = int(intVar(EnvMessagesPerConversation, conversation.DefaultMessagesPerConversation, 100_000))
	c.limits.MaxBytes = intVar(EnvConversationMaxBytes, conversation.DefaultMaxBytes, 1<<40)
	return c, errs
}

// openConversations opens the conversation store PORTICO_CONVERSATION_STORE names. SQLite
// is opened by store_sqlite.go, which Lambda builds leave out.
func openConversations(ctx context.Context, spec string, loadAWS func(context.Context) (aws.Config, error)) (conversation.Store, error) {
	sp, err := store.ParseSpec(spec)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", EnvConversationStore, spec, err)
	}
	if sp.Kind == store.KindSQLite {
		return openConversationSQLite(ctx, sp.Target)
	}
	cfg, err := loadAWS(ctx)
	if err != nil {
		return nil, err
	}
	return dynamostore.New(dynamodb.NewFromConfig(cfg), sp.Target, time.Now), nil
}

// errNoConversationStore is the refusal of a configuration that mounts inference without a
// conversation store (a bug: fromEnv requires one).
var errNoConversationStore = errors.New(EnvConversationStore + " is not set")
