package apikey

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"connectrpc.com/connect"

	apikeyv1 "github.com/portico-dev/portico/gen/go/portico/apikey/v1"
	"github.com/portico-dev/portico/gen/go/portico/apikey/v1/apikeyv1connect"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
)

// Limits of ApiKeyService.
const (
	// MaxNameChars is the longest key name.
	MaxNameChars = 64
	// MaxActiveKeys is the most keys one person may hold that are neither revoked nor expired.
	MaxActiveKeys = 20
	// MaxKeyModels is the most models one key may be limited to.
	MaxKeyModels = 64
)

// ServiceConfig configures a Service.
type ServiceConfig struct {
	// Store keeps the keys; required.
	Store Store
	// Policy returns the policy in force; required.
	Policy func() *policy.Policy
	// Resolver, when set, forgets a key this instance revokes, so that it stops at once here.
	Resolver *Resolver
	// Seen records the creator's sign-in (a key works only for a person seen); required.
	Seen *SeenRecorder
	// Admin reports whether a caller may list and revoke everyone's keys (usage or policy
	// administrators); nil means nobody.
	Admin func(*principal.Principal) bool
	// APIBaseURL is shown in the app's examples (PORTICO_PUBLIC_API_URL); may be empty.
	APIBaseURL string
	// Logger receives one record per key created or revoked (never secrets); nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. Random is the randomness; nil means crypto/rand.
	Now    func() time.Time
	Random io.Reader
}

// Service is the ApiKeyService handler. It is safe for concurrent use.
type Service struct {
	cfg ServiceConfig
}

var _ apikeyv1connect.ApiKeyServiceHandler = (*Service)(nil)

// NewService returns an ApiKeyService for cfg. Mount it behind the authn middleware (which
// already refuses API keys on it).
func NewService(cfg ServiceConfig) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Admin == nil {
		cfg.Admin = func(*principal.Principal) bool { return false }
	}
	return &Service{cfg: cfg}
}

// person returns the caller if it is a person signed in with a token (not a machine client,
// not an API key).
func person(ctx context.Context) (*principal.Principal, error) {
	p, err := authn.Principal(ctx)
	if err != nil {
		return nil, err
	}
	if p.Kind != principal.KindPerson || p.APIKey != "" {
		return nil, connect.NewError(connect.CodePermissionDenied, errors.New("API keys are managed by people signed in to Portico"))
	}
	return p, nil
}

func (s *Service) admin(ctx context.Context) (*principal.Principal, error) {
	p, err := person(ctx)
	if err != nil {
		return nil, err
	}
	if !s.cfg.Admin(p) {
		return nil, connect.NewError(connect.CodePermissionDenied, errors.New("managing everyone's API keys needs an administrators' group"))
	}
	return p, nil
}

func storeError(err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return connect.NewError(connect.CodeNotFound, errors.New("no such API key"))
	case errors.Is(err, ErrUnavailable):
		return connect.NewError(connect.CodeUnavailable, errors.New("the key store cannot be reached; try again"))
	}
	return connect.NewError(connect.CodeInternal, errors.New("internal error"))
}

// CreateApiKey creates a key for the caller and returns its secret once.
func (s *Service) CreateApiKey(ctx context.Context, req *apikeyv1.CreateApiKeyRequest) (*apikeyv1.CreateApiKeyResponse, error) {
	p, err := person(ctx)
	if err != nil {
		return nil, err
	}
	pol := s.cfg.Policy()
	if !pol.KeysAllowed(p) {
		return nil, connect.NewError(connect.CodePermissionDenied, errors.New("API keys are disabled for your groups"))
	}
	name := strings.TrimSpace(req.GetName())
	if n := utf8.RuneCountInString(name); n == 0 || n > MaxNameChars || !utf8.ValidString(name) ||
		strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("name must be 1 to %d printable characters", MaxNameChars))
	}
	days := int(req.GetExpireDays())
	if days == 0 {
		days = pol.KeyMaxExpiryDays()
	}
	if days < 1 || days > pol.KeyMaxExpiryDays() {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("expire_days must be from 1 to %d", pol.KeyMaxExpiryDays()))
	}
	models := slices.Clone(req.GetModelIds())
	slices.Sort(models)
	if len(models) > MaxKeyModels || len(slices.Compact(slices.Clone(models))) != len(models) {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("model_ids must be at most %d distinct models", MaxKeyModels))
	}
	ent := pol.Entitlements(p)
	for _, m := range models {
		if !ent.AllowsModel(m) && !ent.AllowsEndpoint(m) {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("model %q is not available to you", m))
		}
	}
	now := s.cfg.Now().UTC()
	keys, err := s.cfg.Store.List(ctx, p.Username)
	if err != nil {
		return nil, storeError(err)
	}
	active := 0
	for _, k := range keys {
		if k.Revoked.IsZero() && now.Before(k.Expires) {
			active++
		}
	}
	if active >= MaxActiveKeys {
		return nil, connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("you hold %d active keys, the most allowed; revoke one first", active))
	}
	// The key works only for a person seen: record this sign-in now.
	if err := s.cfg.Seen.Record(ctx, p); err != nil {
		return nil, storeError(err)
	}
	secret, err := NewSecret(s.cfg.Random)
	if err != nil {
		return nil, connect.NewError(connect.CodeInternal, errors.New("internal error"))
	}
	id := make([]byte, 8)
	if _, err := io.ReadFull(s.cfg.Random, id); err != nil {
		return nil, connect.NewError(connect.CodeInternal, errors.New("internal error"))
	}
	k := Key{ID: hex.EncodeToString(id), Owner: p.Username, Name: name, Prefix: DisplayPrefix(secret), Hash: Hash(secret),
		Models: models, Created: now, Expires: now.AddDate(0, 0, days)}
	if len(k.Models) == 0 {
		k.Models = nil
	}
	if err := s.cfg.Store.Create(ctx, k); err != nil {
		return nil, storeError(err)
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "API key created", slog.String("user", p.Username),
		slog.String("key", k.Prefix), slog.String("key_id", k.ID), slog.Time("expires", k.Expires))
	return &apikeyv1.CreateApiKeyResponse{Key: k.Proto(), Secret: secret}, nil
}

// ListApiKeys lists the caller's keys with the deployment's key settings.
func (s *Service) ListApiKeys(ctx context.Context, _ *apikeyv1.ListApiKeysRequest) (*apikeyv1.ListApiKeysResponse, error) {
	p, err := person(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := s.cfg.Store.List(ctx, p.Username)
	if err != nil {
		return nil, storeError(err)
	}
	pol := s.cfg.Policy()
	out := &apikeyv1.ListApiKeysResponse{
		ApiBaseUrl: s.cfg.APIBaseURL, MaxExpireDays: int32(pol.KeyMaxExpiryDays()), //nolint:gosec // at most 3650
		MaxIdleDays: int32(pol.KeyMaxIdleDays()), KeysAllowed: pol.KeysAllowed(p), Admin: s.cfg.Admin(p), //nolint:gosec // at most 3650
	}
	for _, k := range keys {
		out.Keys = append(out.Keys, k.Proto())
	}
	return out, nil
}

// RevokeApiKey revokes one of the caller's keys.
func (s *Service) RevokeApiKey(ctx context.Context, req *apikeyv1.RevokeApiKeyRequest) (*apikeyv1.RevokeApiKeyResponse, error) {
	p, err := person(ctx)
	if err != nil {
		return nil, err
	}
	k, err := s.revoke(ctx, p, p.Username, req.GetId())
	if err != nil {
		return nil, err
	}
	return &apikeyv1.RevokeApiKeyResponse{Key: k.Proto()}, nil
}

// ListAllApiKeys lists everyone's keys, or one owner's (administrators only).
func (s *Service) ListAllApiKeys(ctx context.Context, req *apikeyv1.ListAllApiKeysRequest) (*apikeyv1.ListAllApiKeysResponse, error) {
	if _, err := s.admin(ctx); err != nil {
		return nil, err
	}
	keys, err := s.cfg.Store.List(ctx, req.GetOwner())
	if err != nil {
		return nil, storeError(err)
	}
	out := &apikeyv1.ListAllApiKeysResponse{}
	for _, k := range keys {
		out.Keys = append(out.Keys, k.Proto())
	}
	return out, nil
}

// AdminRevokeApiKey revokes anyone's key (administrators only).
func (s *Service) AdminRevokeApiKey(ctx context.Context, req *apikeyv1.AdminRevokeApiKeyRequest) (*apikeyv1.AdminRevokeApiKeyResponse, error) {
	p, err := s.admin(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetOwner() == "" {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("owner is required"))
	}
	k, err := s.revoke(ctx, p, req.GetOwner(), req.GetId())
	if err != nil {
		return nil, err
	}
	return &apikeyv1.AdminRevokeApiKeyResponse{Key: k.Proto()}, nil
}

func (s *Service) revoke(ctx context.Context, by *principal.Principal, owner, id string) (Key, error) {
	if id == "" {
		return Key{}, connect.NewError(connect.CodeInvalidArgument, errors.New("id is required"))
	}
	k, err := s.cfg.Store.Revoke(ctx, owner, id, by.Username, s.cfg.Now().UTC())
	if err != nil {
		return Key{}, storeError(err)
	}
	if s.cfg.Resolver != nil {
		s.cfg.Resolver.Forget(k.Hash)
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "API key revoked", slog.String("user", owner),
		slog.String("key", k.Prefix), slog.String("key_id", k.ID), slog.String("by", by.Username))
	return k, nil
}
