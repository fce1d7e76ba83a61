package main_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	"github.com/portico-dev/portico/gen/go/portico/admin/v1/adminv1connect"
	"github.com/portico-dev/portico/services/conversation/conversationtest"
	convsqlite "github.com/portico-dev/portico/services/conversation/sqlitestore"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
)

// TestAdminCountsConversations runs an admin-only process: given the conversation store it
// counts what the store holds for dana (a usage admin); in production without the store it
// still starts (the store is optional for admin alone).
func TestAdminCountsConversations(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	path := filepath.Join(t.TempDir(), "conversations.db")
	cs, err := convsqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	conversationtest.Start(t, cs, "sub-1", "one", "hello", at)
	conversationtest.Start(t, cs, "sub-1", "two", "hi", at)
	conversationtest.Start(t, cs, "sub-2", "three", "hey", at)
	if err := cs.Close(); err != nil {
		t.Fatal(err)
	}
	keys := "PORTICO_KEY_STORE=sqlite:" + filepath.Join(t.TempDir(), "keys.db") // not the dev default under this directory
	url := spawn(t, "PORTICO_SERVICE=admin", "PORTICO_ISSUER="+idp.Issuer(), "PORTICO_CONVERSATION_STORE=sqlite:"+path, keys).url(t)
	c := adminv1connect.NewAdminServiceClient(h2cClient(), url)
	res, err := c.ListConversationCounts(withBearer(t.Context(), idp.AccessToken(t, "dana")), &adminv1.ListConversationCountsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if tot := res.GetTotals(); tot.GetPeople() != 2 || tot.GetConversations() != 3 || tot.GetMessages() != 3 || tot.GetBytes() != int64(len("hellohihey")) {
		t.Errorf("totals %v", tot)
	}

	prod := spawn(t, append(productionSettings(t), "PORTICO_ENV=production", "PORTICO_ISSUER=https://issuer.example",
		"PORTICO_SERVICE=admin", "PORTICO_CONVERSATION_STORE=", keys)...)
	_ = prod.url(t)
	if strings.Contains(prod.log(), "PORTICO_CONVERSATION_STORE") {
		t.Errorf("an admin-only process asked for the conversation store:\n%s", prod.log())
	}
}
