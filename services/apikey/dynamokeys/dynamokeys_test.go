package dynamokeys_test

import (
	"errors"
	"testing"

	"github.com/portico-dev/portico/services/apikey"
	"github.com/portico-dev/portico/services/apikey/dynamokeys"
	"github.com/portico-dev/portico/services/apikey/keystoretest"
	"github.com/portico-dev/portico/services/testing/dynalitetest"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

func TestContract(t *testing.T) {
	t.Parallel()
	srv := dynalitetest.Start(t)
	keystoretest.Run(t, func(t *testing.T) apikey.Store {
		table := srv.Table("portico-keys")
		if err := dynamokeys.EnsureTable(t.Context(), srv.Client, table); err != nil {
			t.Fatal(err)
		}
		return dynamokeys.New(srv.Client, table)
	})
}

// TestUnreachable: every operation against a dead endpoint fails with ErrUnavailable (the
// services answer UNAVAILABLE and the caller retries), never ErrNotFound (which would
// refuse a valid key as unknown).
func TestUnreachable(t *testing.T) {
	t.Parallel()
	s := dynamokeys.New(dynalitetest.NewClient(dynalitetest.DeadEndpoint(t)), "t")
	ctx := t.Context()
	for name, err := range map[string]error{
		"ByHash": func() error { _, err := s.ByHash(ctx, "h"); return err }(),
		"Seen":   func() error { _, err := s.Seen(ctx, "alice"); return err }(),
		"List":   func() error { _, err := s.List(ctx, ""); return err }(),
		"Create": s.Create(ctx, apikey.Key{ID: "i", Owner: "o", Hash: "h"}),
	} {
		if !errors.Is(err, apikey.ErrUnavailable) {
			t.Errorf("%s: err = %v, want ErrUnavailable", name, err)
		}
	}
}
