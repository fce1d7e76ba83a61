package devidp

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// keysFile is the name of the key file in the data directory.
const keysFile = "keys.json"

// rsaBits is the size of signing keys, as Cognito's.
const rsaBits = 2048

// signingKey is one RSA signing key and its life.
type signingKey struct {
	JWK     jose.JSONWebKey `json:"jwk"`
	Created time.Time       `json:"created"`
	// Retired is when the key stopped signing; zero for the current key.
	Retired time.Time `json:"retired,omitzero"`
}

// keyring holds the signing keys (the last one signs) and the refresh-token sealing key.
type keyring struct {
	mu      sync.RWMutex
	path    string // empty: memory only
	grace   time.Duration
	signing []signingKey
	sealKey []byte
}

type keysOnDisk struct {
	Signing []signingKey `json:"signing"`
	SealKey string       `json:"seal_key"`
}

// openKeyring loads the keys from dir, or creates and saves them when dir has none.
func openKeyring(dir string, grace time.Duration, now time.Time) (*keyring, error) {
	kr := &keyring{grace: grace}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		kr.path = filepath.Join(dir, keysFile)
		data, err := os.ReadFile(kr.path) //nolint:gosec // the operator chooses the data directory
		switch {
		case err == nil:
			if err := kr.decode(data); err != nil {
				return nil, fmt.Errorf("read %s: %w", kr.path, err)
			}
			return kr, nil
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("read keys: %w", err)
		}
	}
	key, err := newSigningKey(now)
	if err != nil {
		return nil, err
	}
	kr.signing = []signingKey{key}
	kr.sealKey = make([]byte, 32)
	if _, err := rand.Read(kr.sealKey); err != nil {
		return nil, fmt.Errorf("generate sealing key: %w", err)
	}
	if err := kr.save(); err != nil {
		return nil, err
	}
	return kr, nil
}

func (kr *keyring) decode(data []byte) error {
	var disk keysOnDisk
	if err := json.Unmarshal(data, &disk); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if len(disk.Signing) == 0 {
		return errors.New("no signing keys")
	}
	for _, k := range disk.Signing {
		if _, ok := k.JWK.Key.(*rsa.PrivateKey); !ok || k.JWK.KeyID == "" {
			return fmt.Errorf("key %q: not an RSA private key with a kid", k.JWK.KeyID)
		}
	}
	seal, err := base64.StdEncoding.DecodeString(disk.SealKey)
	if err != nil || len(seal) != 32 {
		return errors.New("seal_key: want 32 bytes, base64")
	}
	kr.signing, kr.sealKey = disk.Signing, seal
	return nil
}

// save writes the keys to the data directory (mode 0600) atomically. Callers hold mu.
func (kr *keyring) save() error {
	if kr.path == "" {
		return nil
	}
	data, err := json.MarshalIndent(keysOnDisk{
		Signing: kr.signing,
		SealKey: base64.StdEncoding.EncodeToString(kr.sealKey),
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode keys: %w", err)
	}
	return writeFileAtomic(kr.path, data)
}

func newSigningKey(now time.Time) (signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return signingKey{}, fmt.Errorf("generate RSA key: %w", err)
	}
	jwk := jose.JSONWebKey{Key: priv, Algorithm: string(jose.RS256), Use: "sig"}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return signingKey{}, fmt.Errorf("key thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	return signingKey{JWK: jwk, Created: now.UTC()}, nil
}

// current returns the signing key's id and private key.
func (kr *keyring) current() (string, *rsa.PrivateKey) {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	k := kr.signing[len(kr.signing)-1]
	return k.JWK.KeyID, k.JWK.Key.(*rsa.PrivateKey)
}

// sealingKey returns the key that seals refresh tokens.
func (kr *keyring) sealingKey() []byte {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.sealKey
}

// active returns the public keys that verify tokens at now: the current key and the keys
// retired less than the grace period ago, newest first.
func (kr *keyring) active(now time.Time) []jose.JSONWebKey {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	var keys []jose.JSONWebKey
	for i := len(kr.signing) - 1; i >= 0; i-- {
		k := kr.signing[i]
		if !k.Retired.IsZero() && now.Sub(k.Retired) >= kr.grace {
			continue
		}
		keys = append(keys, k.JWK.Public())
	}
	return keys
}

// rotate makes a new signing key current, retires the old one, forgets keys past their
// grace period and saves the result.
func (kr *keyring) rotate(now time.Time) error {
	key, err := newSigningKey(now)
	if err != nil {
		return err
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	kept := kr.signing[:0:0]
	for _, k := range kr.signing {
		if k.Retired.IsZero() {
			k.Retired = now.UTC()
		}
		if now.Sub(k.Retired) < kr.grace {
			kept = append(kept, k)
		}
	}
	kr.signing = append(kept, key)
	return kr.save()
}

// writeFileAtomic writes data to path with mode 0600 through a temporary file and a rename.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone after the rename; cleans up on failure
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
