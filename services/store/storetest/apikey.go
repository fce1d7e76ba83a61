package storetest

import (
	"testing"
	"time"

	"github.com/portico-dev/portico/services/store"
)

// testAPIKeyRecorded checks that the prefix of the personal API key a request was made with
// reaches its audit record (and the admin API's AuditEvent), and that a request made without
// one records none.
func testAPIKeyRecorded(t *testing.T, open Factory) {
	e := newEnv(t, open, t0, 0)
	withKey := res("with-key", "alice", nil, 10)
	withKey.APIKey = "portico_sk_AbC-12"
	e.settle(e.reserve(withKey), ok(3, 4))
	e.clock.Advance(time.Second)
	e.settle(e.reserve(res("without-key", "alice", nil, 10)), ok(3, 4))
	got := map[string]store.Record{}
	for _, r := range e.audit(store.AuditFilter{}) {
		got[r.RequestID] = r
	}
	if r := got["with-key"]; r.APIKey != "portico_sk_AbC-12" || r.Proto().GetApiKeyPrefix() != "portico_sk_AbC-12" {
		t.Errorf("with a key: APIKey %q, proto %q", r.APIKey, r.Proto().GetApiKeyPrefix())
	}
	if r := got["without-key"]; r.APIKey != "" {
		t.Errorf("without a key: APIKey %q", r.APIKey)
	}
}
