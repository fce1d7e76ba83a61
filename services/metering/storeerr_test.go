package metering_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/portico-dev/portico/services/metering"
	"github.com/portico-dev/portico/services/store"
)

func TestStoreError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		blame   metering.Blame
		code    connect.Code
		message string // what the client reads
		logged  string // "" when nothing is logged
	}{
		{"caller's page token", store.Invalid("page token from another filter"), metering.BlameCaller, connect.CodeInvalidArgument, "page token from another filter", ""},
		{"handler's reservation", store.Invalid("limit without unit"), metering.BlameHandler, connect.CodeInternal, "could not reserve quota", "reserve quota failed"},
		{"store unreachable", store.Unavailable("get", errors.New("dial tcp: refused")), metering.BlameCaller, connect.CodeUnavailable, "usage store unavailable; retry later", "reserve quota: store unavailable"},
		{"store corrupt", store.Corrupt("negative counter"), metering.BlameHandler, connect.CodeUnavailable, "usage store unavailable; retry later", "reserve quota: store unavailable"},
		{"anything else", errors.New("boom"), metering.BlameCaller, connect.CodeInternal, "could not reserve quota", "reserve quota failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, nil))
			ce := metering.StoreError(context.Background(), log, "reserve quota", tt.err, tt.blame, slog.String("request_id", "r1"))
			if ce.Code() != tt.code || !strings.Contains(ce.Message(), tt.message) {
				t.Errorf("StoreError = %v, want %v mentioning %q", ce, tt.code, tt.message)
			}
			if tt.code != connect.CodeInvalidArgument && strings.Contains(ce.Message(), tt.err.Error()) {
				t.Errorf("the store's error %q reached the client: %v", tt.err, ce)
			}
			switch got := buf.String(); {
			case tt.logged == "" && got != "":
				t.Errorf("logged %q for the caller's own mistake", got)
			case tt.logged != "" && (!strings.Contains(got, tt.logged) || !strings.Contains(got, "request_id=r1")):
				t.Errorf("log = %q, want %q with the request id", got, tt.logged)
			}
		})
	}
}
