package s3store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/portico-dev/portico/services/attachment"
	"github.com/portico-dev/portico/services/attachment/attachmenttest"
	"github.com/portico-dev/portico/services/attachment/opener"
	"github.com/portico-dev/portico/services/attachment/s3store"
)

// server starts an S3-compatible server (gofakes3, in memory) for the test and returns a
// client of it made by the real SDK.
func server(t *testing.T) (*s3.Client, *httptest.Server) {
	t.Helper()
	fake := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog()))
	ts := httptest.NewServer(fake.Server())
	t.Cleanup(ts.Close)
	return client(ts.URL), ts
}

// awsConfig is the configuration of a client of the server at url.
func awsConfig(url string) aws.Config {
	return aws.Config{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", ""),
		HTTPClient:   &http.Client{},
	}
}

func pathStyle(o *s3.Options) { o.UsePathStyle = true }

func client(url string) *s3.Client {
	return s3.NewFromConfig(awsConfig(url), pathStyle)
}

// newBucket creates a bucket with a fresh name.
func newBucket(t *testing.T, c *s3.Client) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "portico-test-" + hex.EncodeToString(b)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	return name
}

// keys lists every key in bucket.
func keys(t *testing.T, c *s3.Client, bucket string) []string {
	t.Helper()
	var out []string
	pages := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	return out
}

func TestContract(t *testing.T) {
	t.Parallel()
	c, _ := server(t)
	attachmenttest.Run(t, func(t *testing.T) (attachment.Store, func() []string) {
		bucket := newBucket(t, c)
		return s3store.New(c, bucket), func() []string { return keys(t, c, bucket) }
	})
}

// TestDeleteConversationPages deletes a conversation holding more keys than one listing
// page, so the store must list and delete page after page.
func TestDeleteConversationPages(t *testing.T) {
	t.Parallel()
	fake := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog()))
	var deletes atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.URL.Query()["delete"]; ok && r.Method == http.MethodPost {
			deletes.Add(1)
		}
		fake.Server().ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	c := client(ts.URL)
	bucket := newBucket(t, c)
	s := s3store.New(c, bucket)
	s3store.SetPageSize(s, 3)
	ctx := context.Background()
	for i := range 10 {
		if err := s.Put(ctx, attachment.Key{Owner: "alice", Conversation: "c1", Name: fmt.Sprintf("a%02d", i)}, "image/png", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	other := attachment.Key{Owner: "alice", Conversation: "c1x", Name: "a00"}
	if err := s.Put(ctx, other, "image/png", []byte("keep")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConversation(ctx, "alice", "c1"); err != nil {
		t.Fatal(err)
	}
	if n := deletes.Load(); n != 4 {
		t.Errorf("%d DeleteObjects calls for 10 keys listed 3 a page, want 4", n)
	}
	owner, conv, name, _ := other.Segments()
	if got := keys(t, c, bucket); !slices.Equal(got, []string{owner + "/" + conv + "/" + name}) {
		t.Errorf("bucket holds %q after the delete, want only the other conversation's object", got)
	}
}

// TestKeysHoldNoSubject: an object's key is <base64url SHA-256 of the owner>/<conversation>/<name>.
func TestKeysHoldNoSubject(t *testing.T) {
	t.Parallel()
	c, _ := server(t)
	bucket := newBucket(t, c)
	s := s3store.New(c, bucket)
	if err := s.Put(context.Background(), attachment.Key{Owner: "alice@example.com", Conversation: "c1", Name: "a"}, "image/png", []byte("x")); err != nil {
		t.Fatal(err)
	}
	got := keys(t, c, bucket)
	if len(got) != 1 || strings.Contains(got[0], "alice") || !strings.HasSuffix(got[0], "/c1/a") || len(got[0]) != 43+len("/c1/a") {
		t.Errorf("keys = %q", got)
	}
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	c, _ := server(t)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nothing listens there any more
	downClient := s3.NewFromConfig(awsConfig(down.URL), pathStyle, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	tests := []struct {
		name  string
		store *s3store.Store
	}{
		{"no such bucket", s3store.New(c, "portico-never-created")},
		{"server down", s3store.New(downClient, "portico-attachments")},
	}
	k := attachment.Key{Owner: "alice", Conversation: "c1", Name: "a"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			if err := tt.store.Put(ctx, k, "image/png", []byte("x")); !errors.Is(err, attachment.ErrUnavailable) {
				t.Errorf("Put = %v, want ErrUnavailable", err)
			}
			_, err := tt.store.Get(ctx, k)
			if !errors.Is(err, attachment.ErrUnavailable) || errors.Is(err, attachment.ErrNotFound) {
				t.Errorf("Get = %v, want ErrUnavailable and not ErrNotFound", err)
			}
			if err := tt.store.DeleteConversation(ctx, "alice", "c1"); !errors.Is(err, attachment.ErrUnavailable) {
				t.Errorf("DeleteConversation = %v, want ErrUnavailable", err)
			}
		})
	}
}

// TestDeniedIsUnavailable: S3's AccessDenied (a missing grant, a key policy) is an outage of
// the store, never "not found".
func TestDeniedIsUnavailable(t *testing.T) {
	t.Parallel()
	deny := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
	}))
	t.Cleanup(deny.Close)
	s := s3store.New(client(deny.URL), "portico-attachments")
	_, err := s.Get(context.Background(), attachment.Key{Owner: "alice", Conversation: "c1", Name: "a"})
	if !errors.Is(err, attachment.ErrUnavailable) || errors.Is(err, attachment.ErrNotFound) {
		t.Errorf("Get = %v, want ErrUnavailable", err)
	}
}

// TestOpen opens both kinds through opener.Open, the way the services read
// PORTICO_ATTACHMENT_STORE.
func TestOpen(t *testing.T) {
	t.Parallel()
	c, ts := server(t)
	bucket := newBucket(t, c)
	ctx := context.Background()
	loadAWS := func(context.Context) (aws.Config, error) { return awsConfig(ts.URL), nil }
	k := attachment.Key{Owner: "alice", Conversation: "c1", Name: "a"}
	for _, spec := range []string{"s3:" + bucket, "dir:" + t.TempDir() + "/attachments"} {
		s, err := opener.Open(ctx, spec, loadAWS, pathStyle)
		if err != nil {
			t.Fatalf("Open(%q): %v", spec, err)
		}
		if err := s.Put(ctx, k, "image/png", []byte(spec)); err != nil {
			t.Fatalf("%s: Put: %v", spec, err)
		}
		if got, err := s.Get(ctx, k); err != nil || string(got.Data) != spec {
			t.Fatalf("%s: Get = %q, %v", spec, got.Data, err)
		}
	}
	if got := keys(t, c, bucket); len(got) != 1 {
		t.Errorf("bucket holds %q, want the one object", got)
	}
	noAWS := func(context.Context) (aws.Config, error) { return aws.Config{}, errors.New("no credentials") }
	for _, spec := range []string{"", "s3:", "s3:Bad_Bucket", "file:/tmp/x", "dir:"} {
		if _, err := opener.Open(ctx, spec, noAWS); err == nil {
			t.Errorf("Open(%q) succeeded", spec)
		}
	}
	if _, err := opener.Open(ctx, "s3:"+bucket, noAWS); err == nil || !strings.Contains(err.Error(), "no credentials") {
		t.Errorf("Open without AWS configuration = %v", err)
	}
}
