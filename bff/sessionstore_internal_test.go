package bff

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/portico-dev/portico/bff/cookie"
	"github.com/portico-dev/portico/bff/session"
	"github.com/portico-dev/portico/bff/session/dynamosession"
	"github.com/portico-dev/portico/bff/session/sqlitesession"
)

func TestOpenSessionStore(t *testing.T) {
	t.Parallel()
	codec, err := cookie.NewCodec(cookie.Key{ID: "k1", Secret: bytes.Repeat([]byte{3}, cookie.KeySize)})
	if err != nil {
		t.Fatal(err)
	}
	// A stand-in DynamoDB endpoint that records each call's operation and table.
	var mu sync.Mutex
	var calls []string
	ddb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ TableName string }
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &in)
		mu.Lock()
		calls = append(calls, r.Header.Get("X-Amz-Target")+" "+in.TableName)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{}`)) // GetItem without Item: not found
	}))
	t.Cleanup(ddb.Close)
	awsCfg := aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(ddb.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	}

	tests := []struct {
		spec    string
		want    string // the store's type, "" for none
		wantErr bool
	}{
		{spec: "cookie"},
		{spec: "memory", want: "*session.MemoryStore"},
		{spec: "sqlite:" + filepath.Join(t.TempDir(), "new", "dir", "sessions.db"), want: "*sqlitesession.Store"},
		{spec: "dynamodb:portico-sessions", want: "*dynamosession.Store"},
		{spec: "redis:x", wantErr: true},
	}
	for _, tt := range tests {
		st, closeFn, err := openSessionStore(t.Context(), tt.spec, codec, &awsCfg, time.Now)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%s: no error", tt.spec)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.spec, err)
		}
		var got string
		switch st.(type) {
		case nil:
		case *session.MemoryStore:
			got = "*session.MemoryStore"
		case *sqlitesession.Store:
			got = "*sqlitesession.Store"
		case *dynamosession.Store:
			got = "*dynamosession.Store"
		default:
			got = "other"
		}
		if got != tt.want {
			t.Fatalf("%s: store %s, want %s", tt.spec, got, tt.want)
		}
		if st != nil {
			if _, err := st.Load(t.Context(), session.NewID()); !errors.Is(err, session.ErrNotFound) {
				t.Fatalf("%s: Load of an unknown ticket = %v", tt.spec, err)
			}
		}
		if err := closeFn(); err != nil {
			t.Fatalf("%s: close: %v", tt.spec, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 1 || calls[0] != "DynamoDB_20120810.GetItem portico-sessions" {
		t.Fatalf("DynamoDB calls = %q, want one GetItem on portico-sessions", calls)
	}
}
