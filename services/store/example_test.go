package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"connectrpc.com/connect"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/sqlitestore"
)

// The Inference handler's use of a store: reserve the worst case, call the model, settle
// what was used whatever happened, and turn a refusal into RESOURCE_EXHAUSTED.
func Example() {
	dir, _ := os.MkdirTemp("", "portico-example")
	defer func() { _ = os.RemoveAll(dir) }()
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, "portico.db"), store.Options{})
	if err != nil {
		panic(err)
	}
	defer func() { _ = st.Close() }()
	cat := catalog.Default()
	limits := []store.Limit{{ // from the policy's Quotas()
		Subject: typev1.QuotaSubject_QUOTA_SUBJECT_USER, Window: typev1.QuotaWindow_QUOTA_WINDOW_DAY,
		Unit: typev1.QuotaUnit_QUOTA_UNIT_TOKENS, Max: 5000,
	}}

	call := func(requestID string, maxTokens int64) error {
		ticket, err := st.Reserve(ctx, store.Reservation{
			RequestID: requestID, User: "alice", Groups: []string{"MLUsers"},
			Procedure: "/portico.inference.v1.InferenceService/Converse", ModelID: "amazon.nova-lite-v1:0",
			Tokens: 200 + maxTokens, // estimated input + max_tokens
			Limits: limits,
		})
		var qe *store.QuotaError
		switch {
		case errors.As(err, &qe):
			cerr := connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("quota reached: %s", qe.Status.Limit))
			if d, derr := connect.NewErrorDetail(qe.Proto()); derr == nil {
				cerr.AddDetail(d)
			}
			return cerr
		case errors.Is(err, store.ErrUnavailable):
			return connect.NewError(connect.CodeUnavailable, errors.New("usage store unavailable"))
		case err != nil:
			return connect.NewError(connect.CodeInternal, err)
		}
		start := time.Now()
		in, out := int64(180), int64(950) // what the provider reported
		cost, _ := cat.CostNanos("amazon.nova-lite-v1:0", in, out)
		// Settle even if the client went away: detach from its cancellation.
		return st.Settle(context.WithoutCancel(ctx), ticket, store.Outcome{
			Code: "ok", InputTokens: in, OutputTokens: out, CostNanos: cost,
			PriceTableVersion: cat.PriceTable().Version, Latency: time.Since(start), StopReason: "end_turn",
		})
	}
	for i := range 6 {
		err := call(fmt.Sprintf("req-%d", i), 1000)
		fmt.Println(i, connect.CodeOf(err), err == nil)
	}
	u, _ := st.Usage(ctx, "alice", limits)
	fmt.Println(u.Quotas[0].Used, u.Quotas[0].Remaining(), u.Today.Requests, catalog.FormatMoney(catalog.USD(u.Today.CostNanos)))
	// Output:
	// 0 unknown true
	// 1 unknown true
	// 2 unknown true
	// 3 unknown true
	// 4 resource_exhausted false
	// 5 resource_exhausted false
	// 4520 480 4 0.0009552 USD
}
