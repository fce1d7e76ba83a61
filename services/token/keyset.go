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

// DefaultRefreshInterval is the least time between two JWKS fetches of a KeySet. It bounds
// both the fetch rate an attacker can cause with unknown key ids (one fetch per interval per
// process, however many requests) and how long tokens signed with a freshly rotated key are
// refused after a recent fetch.
const DefaultRefreshInterval = 5 * time.Second

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
// Keys are fetched on first use and again when a token names an unknown kid, but never more
// than once per refresh interval (once a second until a first fetch has succeeded), counting
// failed attempts too: a flood of tokens with made-up
// kids costs at most one fetch per interval, and concurrent callers share that fetch. When the
// issuer is unreachable the keys already held keep verifying tokens; an unknown kid then gets
// an error that also matches ErrKeySet until a fetch succeeds, since it cannot be told from
// a key the issuer has but could not serve.
type KeySet struct {
	issuer   string
	jwksURL  string // fixed by WithJWKSURL, else found through discovery
	client   *http.Client
	interval time.Duration
	now      func() time.Time

	mu        sync.RWMutex
	keys      map[string]*rsa.PublicKey
	lastFetch time.Time // last attempt, successful or not
	lastErr   error     // why the last attempt failed; nil after a success
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

// Key returns the public key named kid, refreshing the set if kid is unknown and the refresh
// interval allows it. The error wraps ErrUnknownKey, with the fetch error when one failed.
func (k *KeySet) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	k.mu.RLock()
	key, ok := k.keys[kid]
	wait, lastErr := k.waitLocked(), k.lastErr
	k.mu.RUnlock()
	if ok {
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

// Refresh fetches the key set now unless another caller's fetch is under way, in which case
// it waits for that one. On failure the keys held so far are kept.
func (k *KeySet) Refresh(ctx context.Context) error {
	ch := k.fetches.DoChan("jwks", func() (any, error) {
		// Detached from the first caller: its cancellation must not fail the others.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		k.mu.RLock()
		wait := k.waitLocked()
		k.mu.RUnlock()
		if wait > 0 {
			return nil, nil // a fetch just finished; its result stands
		}
		keys, err := k.fetch(fctx)
		k.mu.Lock()
		defer k.mu.Unlock()
		k.lastFetch, k.lastErr = k.now(), err
		if err != nil {
			return nil, err
		}
		k.keys = keys
		return nil, nil
	})
	select {
	case r := <-ch:
		return r.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitLocked returns how long until the next fetch is allowed; k.mu must be held.
func (k *KeySet) waitLocked() time.Duration {
	if k.lastFetch.IsZero() {
		return 0
	}
	interval := k.interval
	if k.keys == nil {
		interval = min(interval, coldRetryInterval)
	}
	return interval - k.now().Sub(k.lastFetch)
}

func (k *KeySet) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	url := k.jwksURL
	if url == "" {
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := k.getJSON(ctx, strings.TrimSuffix(k.issuer, "/")+"/.well-known/openid-configuration", &doc); err != nil {
			return nil, err
		}
		if doc.Issuer != k.issuer {
			return nil, fmt.Errorf("%w: discovery names issuer %q, want %q", ErrKeySet, doc.Issuer, k.issuer)
		}
		if doc.JWKSURI == "" {
			return nil, fmt.Errorf("%w: discovery document has no jwks_uri", ErrKeySet)
		}
		url = doc.JWKSURI
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := k.getJSON(ctx, url, &set); err != nil {
		return nil, err
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
		return nil, fmt.Errorf("%w: JWKS at %s has no usable RS256 keys", ErrKeySet, url)
	}
	return keys, nil
}

func (k *KeySet) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrKeySet, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrKeySet, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GET %s: %s", ErrKeySet, url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize))
	if err != nil {
		return fmt.Errorf("%w: GET %s: %w", ErrKeySet, url, err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: GET %s: %w", ErrKeySet, url, err)
	}
	return nil
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
