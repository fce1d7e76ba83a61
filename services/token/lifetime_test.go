package token_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/token"
)

func TestKeySetLifetime(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	date := now.Add(-time.Minute) // the response's Date differs from the local clock
	at := func(t time.Time) string { return t.Format(http.TimeFormat) }
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"no header", http.Header{}, token.DefaultKeySetLifetime},
		{"cache-control without an age", http.Header{"Cache-Control": {"public"}}, token.DefaultKeySetLifetime},
		{"max-age within bounds", http.Header{"Cache-Control": {"public, max-age=1200"}}, 20 * time.Minute},
		{"max-age, other spelling", http.Header{"Cache-Control": {`Max-Age="1200", must-revalidate`}}, 20 * time.Minute},
		{"max-age below the minimum", http.Header{"Cache-Control": {"max-age=60"}}, token.MinKeySetLifetime},
		{"max-age zero", http.Header{"Cache-Control": {"max-age=0"}}, token.MinKeySetLifetime},
		{"max-age above the maximum", http.Header{"Cache-Control": {"max-age=86400"}}, token.MaxKeySetLifetime},
		{"max-age beyond 2^31", http.Header{"Cache-Control": {"max-age=99999999999999999999999"}}, token.MaxKeySetLifetime},
		{"max-age at the minimum", http.Header{"Cache-Control": {"max-age=300"}}, token.MinKeySetLifetime},
		{"max-age at the maximum", http.Header{"Cache-Control": {"max-age=3600"}}, token.MaxKeySetLifetime},
		{"max-age less Age", http.Header{"Cache-Control": {"max-age=1800"}, "Age": {"600"}}, 20 * time.Minute},
		{"Age past max-age", http.Header{"Cache-Control": {"max-age=1800"}, "Age": {"3600"}}, token.MinKeySetLifetime},
		{"invalid Age ignored", http.Header{"Cache-Control": {"max-age=1200"}, "Age": {"soon"}}, 20 * time.Minute},
		{"no-cache", http.Header{"Cache-Control": {"no-cache"}}, token.MinKeySetLifetime},
		{"no-store beside max-age", http.Header{"Cache-Control": {"max-age=3600, no-store"}}, token.MinKeySetLifetime},
		{"negative max-age", http.Header{"Cache-Control": {"max-age=-5"}}, token.MinKeySetLifetime},
		{"non-numeric max-age", http.Header{"Cache-Control": {"max-age=ten"}}, token.MinKeySetLifetime},
		{"empty max-age", http.Header{"Cache-Control": {"max-age="}}, token.MinKeySetLifetime},
		{"max-age twice", http.Header{"Cache-Control": {"max-age=1200", "max-age=2400"}}, token.MinKeySetLifetime},
		{"max-age wins over Expires", http.Header{"Cache-Control": {"max-age=1200"}, "Date": {at(date)}, "Expires": {at(date.Add(time.Hour))}}, 20 * time.Minute},
		{"Expires less Date", http.Header{"Date": {at(date)}, "Expires": {at(date.Add(30 * time.Minute))}}, 30 * time.Minute},
		{"Expires without Date", http.Header{"Expires": {at(now.Add(30 * time.Minute))}}, 30 * time.Minute},
		{"Expires less Age", http.Header{"Date": {at(date)}, "Expires": {at(date.Add(30 * time.Minute))}, "Age": {"600"}}, 20 * time.Minute},
		{"Expires far ahead", http.Header{"Date": {at(date)}, "Expires": {at(date.Add(48 * time.Hour))}}, token.MaxKeySetLifetime},
		{"Expires in the past", http.Header{"Date": {at(date)}, "Expires": {at(date.Add(-time.Hour))}}, token.MinKeySetLifetime},
		{"Expires 0", http.Header{"Expires": {"0"}}, token.MinKeySetLifetime},
		{"Expires twice", http.Header{"Date": {at(date)}, "Expires": {at(date.Add(30 * time.Minute)), at(date.Add(50 * time.Minute))}}, token.MinKeySetLifetime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := token.KeySetLifetime(tt.header, now); got != tt.want {
				t.Errorf("lifetime = %s, want %s", got, tt.want)
			}
		})
	}
}
