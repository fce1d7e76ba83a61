package token

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// DefaultRefreshInterval is the least time between two JWKS fetches of a KeySet, whatever
// causes them (an unknown kid, an expired key set, a failed attempt). It bounds the fetch rate
// an attacker can cause with unknown key ids (one fetch per interval per process, however many
// requests) and how long tokens signed with a freshly rotated key are refused after a recent
// fetch.
const DefaultRefreshInterval = 5 * time.Second

// Bounds of a key set's lifetime: how long fetched keys are used before the JWKS is fetched
// again, read from the JWKS response's caching headers (Cache-Control max-age, else Expires,
// less Age) and kept within [MinKeySetLifetime, MaxKeySetLifetime]; DefaultKeySetLifetime
// when the response says nothing. A key the issuer removes from its JWKS stops verifying at
// most one lifetime after the last fetch.
const (
	MinKeySetLifetime     = 5 * time.Minute
	MaxKeySetLifetime     = time.Hour
	DefaultKeySetLifetime = 15 * time.Minute
)

// MaxKeySetStaleness bounds how long keys are served while the issuer cannot be reached:
// past it (counted from the last successful fetch) every verification answers ErrKeySet, so
// a key the issuer removed during an outage does not verify for as long as the outage lasts.
const MaxKeySetStaleness = 24 * time.Hour

// coldRetryInterval is the least time between fetches while no key set has ever been fetched
// (the issuer was not up yet when the first token arrived): short, so a service that started
// before its issuer recovers quickly, and still a bound on the fetch rate.
const coldRetryInterval = time.Second

// maxDocumentSize bounds the discovery document and JWKS a KeySet reads.
const maxDocumentSize = 1 << 20

// fetchTimeout bounds one discovery-plus-JWKS fetch, whoever waits for it.
const fetchTimeout = 10 * time.Second

// KeySet holds an issuer's RSA signing keys, fetched from the jwks_uri of its OpenID
// discovery document.
//
// Keys are fetched on first use, again when a token names an unknown kid, and again when the
// set has outlived its lifetime (see MinKeySetLifetime), but never more than once per refresh
// interval (once a second until a first fetch has succeeded), counting failed attempts too: a
// flood of tokens with made-up kids costs at most one fetch per interval, and concurrent
// callers share that fetch.
//
// The lifetime refresh is lazy and runs on the request path, with no goroutine of its own
// between requests: from three quarters of the lifetime on, a request whose kid is known
// starts a fetch without waiting for it (stale-while-revalidate), so under steady traffic no
// request ever waits; a request that finds the set past its whole lifetime waits for the
// fetch (shared by every caller), so a key the issuer removed is refused from then on. This
// suits AWS Lambda, which freezes a process between invocations: a background ticker would
// fire late or not at all, whereas a frozen fetch is finished or joined by the next request.
//
// A failed fetch never empties the set. When the issuer is unreachable the keys already held
// keep verifying tokens, past their lifetime too (requests then stop waiting for fetches
// until one succeeds); an unknown kid then gets an error that also matches ErrKeySet until a
// fetch succeeds, since it cannot be told from a key the issuer has but could not serve.
type KeySet struct {
	issuer   string
	jwksURL  string // fixed by WithJWKSURL, else found through discovery
	client   *http.Client
	interval time.Duration
	now      func() time.Time

	mu        sync.RWMutex
	keys      map[string]*rsa.PublicKey
	fetchedAt time.Time     // last successful fetch
	lifetime  time.Duration // how long keys may be used after fetchedAt
	lastFetch time.Time     // last attempt, successful or not
	lastErr   error         // why the last attempt failed; nil after a success
	fetches   singleflight.Group
}

// KeySetOption configures a KeySet.
type KeySetOption func(*KeySet)

// WithHTTPClient sets the client used to fetch the discovery document and JWKS.
func WithHTTPClient(c *http.Client) KeySetOption {
	return func(k *KeySet) { k.client = c }
}

// WithRefreshInterval sets the least time between two fetches (DefaultRefreshInterval).
func WithRefreshInterval(d time.Duration) KeySetOption {
	return func(k *KeySet) { k.interval = d }
}

// WithJWKSURL skips discovery and fetches keys from url.
func WithJWKSURL(url string) KeySetOption {
	return func(k *KeySet) { k.jwksURL = url }
}

// withClock replaces time.Now, for tests.
func withClock(now func() time.Time) KeySetOption {
	return func(k *KeySet) { k.now = now }
}

// NewKeySet returns a KeySet for issuer. It fetches nothing until a key is needed.
func NewKeySet(issuer string, opts ...KeySetOption) *KeySet {
	k := &KeySet{
		issuer:   issuer,
		client:   &http.Client{Timeout: fetchTimeout},
		interval: DefaultRefreshInterval,
		now:      time.Now,
	}
	for _, o := range opts {
		o(k)
	}
	return k
}

// Key returns the public key named kid. It refreshes the set if kid is unknown or the set has
// outlived its lifetime and the refresh interval allows it. The error wraps ErrUnknownKey,
// with the fetch error when one failed, or ErrKeySet alone when ctx ended while an expired
// set was being refreshed.
func (k *KeySet) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	k.mu.RLock()
	key, ok := k.keys[kid]
	now := k.now()
	age, lifetime := now.Sub(k.fetchedAt), k.lifetime
	wait, lastErr := k.waitLocked(now), k.lastErr
	k.mu.RUnlock()
	if ok {
		switch {
		case age < lifetime-lifetime/4:
			return key, nil
		case age < lifetime || (lastErr != nil && age < MaxKeySetStaleness):
			// Nearly expired, or expired while the issuer fails: refresh without waiting.
			if wait <= 0 {
				k.fetches.DoChan(fetchKey, k.fetchOnce(ctx)) // buffered; nobody need read it
			}
			return key, nil
		}
		// Expired: wait for the keys the issuer publishes now, so that a removed key is
		// refused. If the fetch fails the keys held stay (the issuer may just be down).
		if err := k.Refresh(ctx); err != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("%w: kid %q: key set expired and its refresh was cut short: %w", ErrKeySet, kid, err)
		}
		k.mu.RLock()
		key, ok = k.keys[kid]
		stale, fetchErr := k.now().Sub(k.fetchedAt), k.lastErr
		k.mu.RUnlock()
		if fetchErr != nil && stale >= MaxKeySetStaleness {
			return nil, fmt.Errorf("%w: kid %q: no key set fetched for %s: %w", ErrKeySet, kid, stale.Round(time.Minute), fetchErr)
		}
		if !ok {
			return nil, fmt.Errorf("%w: kid %q is no longer in the issuer's key set", ErrUnknownKey, kid)
		}
		return key, nil
	}
	if wait > 0 {
		if lastErr != nil {
			// The last fetch failed: the kid may well be the issuer's (a first start, a
			// rotation) and cannot be checked, so the error says the keys are unavailable
			// (callers answer Unavailable and clients retry) rather than that the token is bad.
			return nil, fmt.Errorf("%w: kid %q (next refresh in %s; last one failed: %w)", ErrUnknownKey, kid, wait, lastErr)
		}
		return nil, fmt.Errorf("%w: kid %q (next refresh in %s)", ErrUnknownKey, kid, wait)
	}
	if err := k.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("%w: kid %q: %w", ErrUnknownKey, kid, err)
	}
	k.mu.RLock()
	key, ok = k.keys[kid]
	k.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: kid %q", ErrUnknownKey, kid)
	}
	return key, nil
}

// fetchKey is the singleflight key of every fetch: one at a time, whoever asks.
const fetchKey = "jwks"

// Refresh fetches the key set now, unless another caller's fetch is under way (it then waits
// for that one) or the last attempt is less than the refresh interval old (its result then
// stands). On failure the keys held so far are kept.
func (k *KeySet) Refresh(ctx context.Context) error {
	select {
	case r := <-k.fetches.DoChan(fetchKey, k.fetchOnce(ctx)):
		return r.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fetchOnce returns the function a fetch runs: unless the refresh interval forbids it, fetch
// the set and record the attempt, replacing the keys only on success. It is detached from
// ctx's cancellation, since the callers that join the fetch must not fail with the first.
func (k *KeySet) fetchOnce(ctx context.Context) func() (any, error) {
	return func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		k.mu.RLock()
		wait := k.waitLocked(k.now())
		k.mu.RUnlock()
		if wait > 0 {
			return nil, nil // a fetch just finished; its result stands
		}
		keys, lifetime, err := k.fetch(fctx)
		k.mu.Lock()
		defer k.mu.Unlock()
		now := k.now()
		k.lastFetch, k.lastErr = now, err
		if err != nil {
			return nil, err
		}
		for kid, pub := range keys {
			// Keep the key a verified token was checked with when the issuer still publishes
			// it, so the result cache can tell a kept key from a replaced one by identity.
			if old, ok := k.keys[kid]; ok && old.Equal(pub) {
				keys[kid] = old
			}
		}
		k.keys, k.fetchedAt, k.lifetime = keys, now, lifetime
		return nil, nil
	}
}

// waitLocked returns how long after now until the next fetch is allowed; k.mu must be held.
func (k *KeySet) waitLocked(now time.Time) time.Duration {
	if k.lastFetch.IsZero() {
		return 0
	}
	interval := k.interval
	if k.keys == nil {
		interval = min(interval, coldRetryInterval)
	}
	return interval - now.Sub(k.lastFetch)
}

// fetch reads the issuer's JWKS and returns its usable keys and how long they may be used.
func (k *KeySet) fetch(ctx context.Context) (map[string]*rsa.PublicKey, time.Duration, error) {
	url := k.jwksURL
	if url == "" {
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if _, err := k.getJSON(ctx, strings.TrimSuffix(k.issuer, "/")+"/.well-known/openid-configuration", &doc); err != nil {
			return nil, 0, err
		}
		if doc.Issuer != k.issuer {
			return nil, 0, fmt.Errorf("%w: discovery names issuer %q, want %q", ErrKeySet, doc.Issuer, k.issuer)
		}
		if doc.JWKSURI == "" {
			return nil, 0, fmt.Errorf("%w: discovery document has no jwks_uri", ErrKeySet)
		}
		url = doc.JWKSURI
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	header, err := k.getJSON(ctx, url, &set)
	if err != nil {
		return nil, 0, err
	}
	keys := make(map[string]*rsa.PublicKey, len(set.Keys))
	for _, j := range set.Keys {
		if j.Kty != "RSA" || (j.Use != "" && j.Use != "sig") || (j.Alg != "" && j.Alg != "RS256") || j.Kid == "" {
			continue
		}
		pub, err := j.rsaKey()
		if err != nil {
			continue // one bad key must not hide the others
		}
		keys[j.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, 0, fmt.Errorf("%w: JWKS at %s has no usable RS256 keys", ErrKeySet, url)
	}
	return keys, keySetLifetime(header, k.now()), nil
}

// getJSON decodes the JSON document at url into v and returns the response's header.
func (k *KeySet) getJSON(ctx context.Context, url string, v any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeySet, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeySet, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: %s", ErrKeySet, url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize))
	if err != nil {
		return nil, fmt.Errorf("%w: GET %s: %w", ErrKeySet, url, err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nil, fmt.Errorf("%w: GET %s: %w", ErrKeySet, url, err)
	}
	return resp.Header, nil
}

// jwk is one RSA key of a JWKS (RFC 7517, RFC 7518 section 6.3).
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func (j jwk) rsaKey() (*rsa.PublicKey, error) {
	n, err := base64.RawURLEncoding.DecodeString(j.N)
	if err != nil {
		return nil, err
	}
	e, err := base64.RawURLEncoding.DecodeString(j.E)
	if err != nil {
		return nil, err
	}
	if len(e) == 0 || len(e) > 4 {
		return nil, errors.New("bad exponent")
	}
	var exp int
	for _, b := range e {
		exp = exp<<8 | int(b)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}
	if pub.N.BitLen() < 2048 || exp < 3 || exp%2 == 0 {
		return nil, errors.New("weak key")
	}
	return pub, nil
}
