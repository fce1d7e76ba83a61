package store

import (
	"encoding/base64"
	"encoding/json"
	"time"
)

// DefaultPageSize and MaxPageSize bound ListAudit pages.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// AuditFilter selects audit records for ListAudit.
type AuditFilter struct {
	// Start and End select records with Start <= Time < End; zero means unbounded.
	Start, End time.Time
	// User and ModelID narrow the records to one user, one model.
	User, ModelID string
	// PageSize is the most records per page, 1 to 500; 0 means 50.
	PageSize int
	// PageToken is a previous page's NextPageToken, to continue after it. It is only valid
	// with the same filter.
	PageToken string
}

// Size validates the page size and returns it with the default applied.
func (f AuditFilter) Size() (int, error) {
	switch {
	case f.PageSize == 0:
		return DefaultPageSize, nil
	case f.PageSize < 0 || f.PageSize > MaxPageSize:
		return 0, Invalid("page size %d is not from 1 to %d", f.PageSize, MaxPageSize)
	}
	return f.PageSize, nil
}

// AuditPage is one page of audit records.
type AuditPage struct {
	// Records are newest first.
	Records []Record
	// NextPageToken continues the listing; empty on the last page.
	NextPageToken string
}

// EncodePageToken returns v as an opaque page token (URL-safe base64 of JSON).
func EncodePageToken(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs are passed
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodePageToken parses a token from EncodePageToken into v; a malformed token is an
// ErrInvalid error.
func DecodePageToken(token string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || json.Unmarshal(b, v) != nil {
		return Invalid("malformed page token")
	}
	return nil
}
