package proxy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/bff/requestid"
)

// recorder is a services stand-in (h2c and HTTP/1.1) that records the request headers of
// each call under the X-Request-Id it arrived with, and answers with its own X-Request-Id as
// the services do.
type recorder struct {
	mu   sync.Mutex
	byID map[string]http.Header
	n    int
}

func (u *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.byID[r.Header.Get(requestid.Header)] = r.Header.Clone()
	u.n++
	u.mu.Unlock()
	w.Header().Set(requestid.Header, r.Header.Get(requestid.Header))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{})
}

// seen returns the headers of the call with request id id, or nil.
func (u *recorder) seen(id string) http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.byID[id]
}

func (u *recorder) calls() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.n
}

func startRecorder(t *testing.T) (*url.URL, *recorder) {
	t.Helper()
	u := &recorder{byID: map[string]http.Header{}}
	ts := httptest.NewUnstartedServer(u)
	ts.Config.Protocols = new(http.Protocols)
	ts.Config.Protocols.SetHTTP1(true)
	ts.Config.Protocols.SetUnencryptedHTTP2(true)
	ts.Start()
	t.Cleanup(ts.Close)
	base, _ := url.Parse(ts.URL)
	return base, u
}

const (
	testTimeout = 30 * time.Second
	browserUA   = "Mozilla/5.0 (portico-test)"
	evil        = "evil"
)

func headerProxy(t *testing.T) (*Proxy, *recorder) {
	t.Helper()
	up, rec := startRecorder(t)
	p, err := New(Config{
		Upstream:  up,
		Allowlist: Allowlist{"/a.B/C": true},
		Guard:     allowAll{},
		Authorize: func(http.ResponseWriter, *http.Request) (string, error) { return "the-access-token", nil },
		Timeout:   testTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, rec
}

// send makes one call through p the way the BFF's handler does (with a request id in the
// context) and returns the response and the id.
func send(t *testing.T, p *Proxy, contentType string, set http.Header) (*httptest.ResponseRecorder, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/a.B/C", strings.NewReader("{}"))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", browserUA)
	for k, v := range set {
		req.Header[k] = v
	}
	id := requestid.New()
	req = req.WithContext(requestid.NewContext(req.Context(), id))
	rec := httptest.NewRecorder()
	rec.Header().Set(requestid.Header, id) // as the BFF's handler does before the proxy runs
	p.ServeHTTP(rec, req)
	return rec, id
}

var traceparentRE = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-01$`)

// TestUpstreamHeaders is the header contract at the BFF, as a table of what a browser (or
// anyone who can reach the BFF) might send: every header the BFF used to strip, plus the
// tracing, request-id, address and URL-override headers that used to pass. Each must be
// absent upstream, or replaced by the BFF's own value; only the allowlisted content and
// protocol headers pass unchanged.
func TestUpstreamHeaders(t *testing.T) {
	t.Parallel()
	p, up := headerProxy(t)

	// want: "" absent upstream; "=" passes unchanged; anything else: the BFF's own value
	// (checked by the function of the same name below).
	tests := []struct {
		name, value, want string
	}{
		// The BFF's former denylist.
		{"Cookie", "__Host-portico-session=stolen", ""},
		{"Authorization", "Bearer forged", "bearer"},
		{"X-Csrf", "1", ""},
		{"Portico-Client-Ip", "6.6.6.6", "client-ip"},
		{"Portico-Client-User-Agent", evil, "client-ua"},
		{"Portico-Request-Id", evil, ""},
		{"Portico-Anything", evil, ""},
		{"X-Forwarded-For", "6.6.6.6", ""},
		{"X-Forwarded-Host", "evil.example", ""},
		{"X-Forwarded-Proto", "https", ""},
		{"X-Forwarded-Port", "443", ""},
		{"Forwarded", "for=6.6.6.6;host=evil.example", ""},
		{"X-Real-Ip", "6.6.6.6", ""},
		{"X-Amz-Security-Token", evil, ""},
		{"X-Amz-Date", "20260101T000000Z", ""},
		{"Cloudfront-Viewer-Address", "6.6.6.6:443", ""},
		{"Cloudfront-Is-Desktop-Viewer", "true", ""},
		{"Proxy-Authorization", "Basic ZXZpbDpldmls", ""},
		// Tracing and request ids: the BFF starts its own.
		{"Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "traceparent"},
		{"Tracestate", "evil=1", ""},
		{"Baggage", "user=admin", ""},
		{"X-Request-Id", evil, "request-id"},
		{"X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793", ""},
		{"X-B3-Traceid", "80f198ee56343ba864fe8b2a57d3eff7", ""},
		// Addresses and identity.
		{"True-Client-Ip", "6.6.6.6", ""},
		{"Cf-Connecting-Ip", "6.6.6.6", ""},
		{"X-Client-Ip", "6.6.6.6", ""},
		{"Via", "1.1 evil", ""},
		{"X-Amzn-Oidc-Identity", "dana", ""},
		{"X-Remote-User", "dana", ""},
		// URL and method overrides.
		{"X-Original-Url", "/portico.admin.v1.AdminService/ListAuditEvents", ""},
		{"X-Rewrite-Url", "/portico.admin.v1.AdminService/ListAuditEvents", ""},
		{"X-Http-Method-Override", "DELETE", ""},
		// Browser context the services have no use for.
		{"Origin", "https://evil.example", ""},
		{"Referer", "https://evil.example/", ""},
		{"Sec-Fetch-Site", "cross-site", ""},
		{"Accept-Language", "en", ""},
		{"User-Agent", browserUA, "user-agent"},
		// Deadlines: the BFF writes its own, within its limit.
		{"Connect-Timeout-Ms", "9999999999", "connect-timeout"},
		{"Grpc-Timeout", "99999999H", ""}, // not the protocol of this call
		// The allowlist.
		{"Accept", "application/json", "="},
		{"Accept-Encoding", "gzip", "="},
		{"Connect-Protocol-Version", "1", "="},
		{"Connect-Accept-Encoding", "gzip", "="},
		{"Connect-Content-Encoding", "identity", "="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, id := send(t, p, "application/json", http.Header{http.CanonicalHeaderKey(tt.name): {tt.value}})
			if rec.Code != http.StatusOK {
				t.Fatalf("call: %d %s", rec.Code, rec.Body)
			}
			got := up.seen(id)
			if got == nil {
				t.Fatalf("no call reached the services with the BFF's request id %s", id)
			}
			v := got.Values(tt.name)
			switch tt.want {
			case "":
				if len(v) != 0 {
					t.Fatalf("%s reached the services: %q", tt.name, v)
				}
			case "=":
				if len(v) != 1 || v[0] != tt.value {
					t.Fatalf("%s upstream = %q, want %q", tt.name, v, tt.value)
				}
			default:
				if len(v) != 1 || v[0] == tt.value {
					t.Fatalf("%s upstream = %q, want the BFF's own single value", tt.name, v)
				}
				checkOwn(t, tt.want, v[0], id)
			}
			// Whatever the row, the BFF's own headers are there.
			for _, own := range []string{"bearer", "client-ip", "client-ua", "user-agent", "request-id", "traceparent", "connect-timeout"} {
				checkOwn(t, own, got.Get(ownHeader[own]), id)
			}
			if n := len(rec.Result().Header.Values(requestid.Header)); n != 1 {
				t.Fatalf("the browser got %d X-Request-Id headers, want 1", n)
			}
		})
	}
}

var ownHeader = map[string]string{
	"bearer": "Authorization", "client-ip": HeaderClientIP, "client-ua": HeaderClientUserAgent,
	"user-agent": "User-Agent", "request-id": requestid.Header, "traceparent": "Traceparent",
	"connect-timeout": "Connect-Timeout-Ms",
}

// checkOwn checks one of the BFF's own upstream headers.
func checkOwn(t *testing.T, what, v, id string) {
	t.Helper()
	ok := false
	switch what {
	case "bearer":
		ok = v == "Bearer the-access-token"
	case "client-ip":
		ok = v == "192.0.2.1" // httptest.NewRequest's peer
	case "client-ua":
		ok = v == browserUA
	case "user-agent":
		ok = v == UserAgent
	case "request-id":
		ok = v == id
	case "traceparent":
		m := traceparentRE.FindStringSubmatch(v)
		ok = m != nil && m[1] == id
	case "connect-timeout":
		ms, err := strconv.ParseInt(v, 10, 64)
		ok = err == nil && ms > testTimeout.Milliseconds()-5000 && ms <= testTimeout.Milliseconds()
	}
	if !ok {
		t.Fatalf("upstream %s = %q, not the BFF's own (request id %s)", ownHeader[what], v, id)
	}
}

// TestUpstreamDeadline: the browser may shorten a call's deadline, never lengthen it past the
// BFF's limit; the services get the deadline in the call's protocol; a malformed deadline is
// refused as the services would refuse it.
func TestUpstreamDeadline(t *testing.T) {
	t.Parallel()
	p, up := headerProxy(t)
	const grpcWeb = "application/grpc-web+proto"
	limit := testTimeout.Milliseconds()
	tests := []struct {
		name, contentType, header, value string
		// the deadline header upstream and its range in milliseconds; code for a refusal
		wantHeader string
		lo, hi     int64
		code       int
	}{
		{"connect: none asked", "application/json", "", "", "Connect-Timeout-Ms", limit - 5000, limit, 0},
		{"connect: shorter", "application/json", "Connect-Timeout-Ms", "1500", "Connect-Timeout-Ms", 1000, 1500, 0},
		{"connect: longer than the limit", "application/json", "Connect-Timeout-Ms", "9999999999", "Connect-Timeout-Ms", limit - 5000, limit, 0},
		{"connect streaming: shorter", "application/connect+json", "Connect-Timeout-Ms", "2000", "Connect-Timeout-Ms", 1500, 2000, 0},
		{"grpc-web: none asked", grpcWeb, "", "", "Grpc-Timeout", limit - 5000, limit, 0},
		{"grpc-web: shorter", grpcWeb, "Grpc-Timeout", "3S", "Grpc-Timeout", 2500, 3000, 0},
		{"grpc-web: longer than the limit", grpcWeb, "Grpc-Timeout", "99999999H", "Grpc-Timeout", limit - 5000, limit, 0},
		{"grpc-web: connect header ignored", grpcWeb, "Connect-Timeout-Ms", "1", "Grpc-Timeout", limit - 5000, limit, 0},
		{"connect: not a number", "application/json", "Connect-Timeout-Ms", "soon", "", 0, 0, http.StatusBadRequest},
		{"connect: zero", "application/json", "Connect-Timeout-Ms", "0", "", 0, 0, http.StatusBadRequest},
		{"connect: negative", "application/json", "Connect-Timeout-Ms", "-5", "", 0, 0, http.StatusBadRequest},
		{"connect: plus sign", "application/json", "Connect-Timeout-Ms", "+5", "", 0, 0, http.StatusBadRequest},
		{"connect: 11 digits", "application/json", "Connect-Timeout-Ms", "12345678901", "", 0, 0, http.StatusBadRequest},
		{"grpc-web: no unit", grpcWeb, "Grpc-Timeout", "100", "", 0, 0, http.StatusOK},
		{"grpc-web: bad unit", grpcWeb, "Grpc-Timeout", "5x", "", 0, 0, http.StatusOK},
		{"grpc-web: 9 digits", grpcWeb, "Grpc-Timeout", "123456789S", "", 0, 0, http.StatusOK},
		{"grpc-web: zero", grpcWeb, "Grpc-Timeout", "0S", "", 0, 0, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set := http.Header{}
			if tt.header != "" {
				set.Set(tt.header, tt.value)
			}
			rec, id := send(t, p, tt.contentType, set)
			got := up.seen(id)
			if tt.wantHeader == "" {
				// Refused before anything is forwarded: Connect unary answers 400
				// invalid_argument, gRPC-Web 200 with grpc-status 3.
				if rec.Code != tt.code || (tt.code == http.StatusOK && rec.Header().Get("Grpc-Status") != "3") ||
					(tt.code == http.StatusBadRequest && !strings.Contains(rec.Body.String(), `"invalid_argument"`)) {
					t.Fatalf("malformed deadline: %d %q %s", rec.Code, rec.Header().Get("Grpc-Status"), rec.Body)
				}
				if got != nil {
					t.Fatal("a call with a malformed deadline reached the services")
				}
				return
			}
			if rec.Code != http.StatusOK || got == nil {
				t.Fatalf("call: %d %s", rec.Code, rec.Body)
			}
			v := got.Get(tt.wantHeader)
			ms, err := strconv.ParseInt(strings.TrimSuffix(v, "m"), 10, 64)
			if err != nil || (tt.wantHeader == "Grpc-Timeout" && !strings.HasSuffix(v, "m")) || ms < tt.lo || ms > tt.hi {
				t.Fatalf("upstream %s = %q, want %d to %d ms", tt.wantHeader, v, tt.lo, tt.hi)
			}
			other := "Grpc-Timeout"
			if tt.wantHeader == other {
				other = "Connect-Timeout-Ms"
			}
			if got.Get(other) != "" {
				t.Fatalf("upstream also got %s %q", other, got.Get(other))
			}
		})
	}
}

// TestProxyAssignsRequestID: served on its own (without the BFF's handler), the proxy still
// gives the call an id, returns it once and forwards it.
func TestProxyAssignsRequestID(t *testing.T) {
	t.Parallel()
	p, up := headerProxy(t)
	req := httptest.NewRequest(http.MethodPost, "/api/a.B/C", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(requestid.Header, evil)
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	ids := rec.Result().Header.Values(requestid.Header)
	if rec.Code != http.StatusOK || len(ids) != 1 || ids[0] == evil || up.seen(ids[0]) == nil || up.calls() != 1 {
		t.Fatalf("%d, X-Request-Id %q, %d calls", rec.Code, ids, up.calls())
	}
}
