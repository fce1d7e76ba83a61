package apikey_test

import (
	"context"
	"errors"
	"testing"

	"github.com/portico-dev/portico/services/apikey"
)

// TestUnavailable: a backend failure matches ErrUnavailable (retry), still unwraps to the
// backend's error, names the operation, and matches no other Store error.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	for _, cause := range []error{errors.New("connection refused"), context.DeadlineExceeded} {
		err := apikey.Unavailable("list keys", cause)
		if !errors.Is(err, apikey.ErrUnavailable) || !errors.Is(err, cause) || errors.Is(err, apikey.ErrNotFound) || errors.Is(err, apikey.ErrExists) {
			t.Errorf("Unavailable(%v) = %v: matches the wrong errors", cause, err)
		}
		if want := "apikey: store unavailable: list keys: " + cause.Error(); err.Error() != want {
			t.Errorf("message %q, want %q", err, want)
		}
	}
}
