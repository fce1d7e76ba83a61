package dynamosession

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portico-dev/portico/bff/session"
	"github.com/portico-dev/portico/bff/session/sessiontest"
	"github.com/portico-dev/portico/services/testing/dynalitetest"
)

func TestContract(t *testing.T) {
	t.Parallel()
	sessiontest.Run(t, func(t *testing.T, now func() time.Time) session.Store {
		db := client(t)
		return New(db, newTable(t, db), sessiontest.Codec(t, 7), Options{Now: now})
	})
}

func TestItemSealedAtRest(t *testing.T) {
	t.Parallel()
	db := client(t)
	table := newTable(t, db)
	clk := sessiontest.NewClock()
	st := New(db, table, sessiontest.Codec(t, 7), Options{Now: clk.Now})
	s := sessiontest.NewSession(clk.Now())
	s.Expires = clk.Now().Add(time.Hour + 300*time.Millisecond)
	if err := st.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	out, err := db.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 {
		t.Fatalf("%d items, want 1", len(out.Items))
	}
	item := out.Items[0]
	pk := item["pk"].(*types.AttributeValueMemberS).Value
	if pk != session.StoreKey(s.ID) || strings.Contains(pk, s.ID) {
		t.Fatalf("pk %q is not the ticket's hash", pk)
	}
	sealed := item["s"].(*types.AttributeValueMemberS).Value
	for _, secret := range []string{s.ID, s.AccessToken[:20], s.RefreshToken[:20], s.User.Email} {
		if strings.Contains(sealed, secret) {
			t.Fatalf("the item holds %q in the clear", secret)
		}
	}
	if ttl := item["ttl"].(*types.AttributeValueMemberN).Value; ttl != strconv.FormatInt(s.Expires.Unix()+1, 10) {
		t.Fatalf("ttl = %s, want the session's end rounded up to %d", ttl, s.Expires.Unix()+1)
	}

	// Another key ring cannot open the item, nor can a sealed value copied to another item.
	if _, err := New(db, table, sessiontest.Codec(t, 8), Options{Now: clk.Now}).Load(t.Context(), s.ID); !errors.Is(err, session.ErrNotFound) || !strings.Contains(err.Error(), "open stored session") {
		t.Fatalf("Load with foreign keys = %v, want ErrNotFound for a value that does not open", err)
	}
	victim := sessiontest.NewSession(clk.Now())
	if err := st.Create(t.Context(), victim); err != nil {
		t.Fatal(err)
	}
	moved := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: session.StoreKey(victim.ID)}}
	for k, v := range item {
		if k != "pk" {
			moved[k] = v
		}
	}
	if _, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: moved}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Load(t.Context(), victim.ID); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("a sealed session copied to another item: Load = %v, %v; want ErrNotFound", got, err)
	}
}

// TestInstancesShareRevocation is the point of the package: logout on one instance ends
// the session on every other, and their late refresh writes fail.
func TestInstancesShareRevocation(t *testing.T) {
	t.Parallel()
	db := client(t)
	table := newTable(t, db)
	clk := sessiontest.NewClock()
	url := dynalitetest.Start(t).URL
	a := New(dynalitetest.NewClient(url), table, sessiontest.Codec(t, 7), Options{Now: clk.Now})
	b := New(dynalitetest.NewClient(url), table, sessiontest.Codec(t, 7), Options{Now: clk.Now})
	s := sessiontest.NewSession(clk.Now())
	if err := a.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	loaded, err := b.Load(t.Context(), s.ID)
	if err != nil {
		t.Fatalf("other instance: %v", err)
	}
	if err := a.Delete(t.Context(), s.ID); err != nil {
		t.Fatal(err)
	}
	if err := b.Update(t.Context(), loaded); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("late Update on the other instance = %v, want ErrNotFound", err)
	}
	if _, err := b.Load(t.Context(), s.ID); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load on the other instance after logout = %v, want ErrNotFound", err)
	}
}

func TestEndpointDown(t *testing.T) {
	t.Parallel()
	db := dynalitetest.NewClient(dynalitetest.DeadEndpoint(t))
	st := New(db, "absent", sessiontest.Codec(t, 7), Options{})
	ctx := t.Context()
	s := sessiontest.NewSession(time.Now())
	for name, err := range map[string]error{
		"Create": st.Create(ctx, s),
		"Update": st.Update(ctx, s),
		"Delete": st.Delete(ctx, s.ID),
	} {
		if err == nil || errors.Is(err, session.ErrNotFound) || errors.Is(err, session.ErrExists) {
			t.Errorf("%s with the endpoint down = %v, want a transport error", name, err)
		}
	}
	if _, err := st.Load(ctx, s.ID); err == nil || errors.Is(err, session.ErrNotFound) {
		t.Errorf("Load with the endpoint down = %v, want a transport error", err)
	}
}

func TestEnsureTableIsIdempotent(t *testing.T) {
	t.Parallel()
	db := client(t)
	table := newTable(t, db)
	if err := EnsureTable(t.Context(), db, table); err != nil {
		t.Fatalf("second EnsureTable: %v", err)
	}
}

// TestThrottleIsNotNotFound: DynamoDB throttling (or any other service error) is the store
// failing, never a missing session, so the BFF keeps the session and answers 503.
func TestThrottleIsNotNotFound(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	throttling := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"Rate of requests exceeds the allowed throughput."}`))
	}))
	t.Cleanup(throttling.Close)
	db := dynalitetest.NewClient(throttling.URL, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	st := New(db, "portico-sessions", sessiontest.Codec(t, 7), Options{})
	ctx := t.Context()
	s := sessiontest.NewSession(time.Now())
	_, loadErr := st.Load(ctx, s.ID)
	for name, err := range map[string]error{
		"Load":   loadErr,
		"Create": st.Create(ctx, s),
		"Update": st.Update(ctx, s),
		"Delete": st.Delete(ctx, s.ID),
	} {
		var throttled *types.ProvisionedThroughputExceededException
		if !errors.As(err, &throttled) || errors.Is(err, session.ErrNotFound) || errors.Is(err, session.ErrExists) {
			t.Errorf("%s throttled = %v, want the throttling error", name, err)
		}
	}
	if n := calls.Load(); n != 4 {
		t.Fatalf("%d calls reached DynamoDB, want 4", n)
	}
}
