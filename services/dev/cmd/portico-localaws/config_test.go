package main

import (
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/platform/logs"
)

func TestFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env     map[string]string
		wantTPS float64
		wantErr []string
	}{
		{map[string]string{}, 50, nil},
		{map[string]string{EnvTokensPerSecond: "0"}, 0, nil},
		{map[string]string{EnvTokensPerSecond: "-1"}, 0, []string{EnvTokensPerSecond}},
		{map[string]string{EnvTokensPerSecond: "fast"}, 0, []string{EnvTokensPerSecond}},
		{map[string]string{EnvOpenAIURL: "localhost:11434"}, 0, []string{EnvOpenAIURL}},
		{map[string]string{EnvOpenAIURL: "http://localhost:11434/v1/chat/completions"}, 50, nil},
		{map[string]string{EnvLogFormat: "xml"}, 0, []string{EnvLogFormat}},
		{map[string]string{EnvLogFormat: "xml", EnvTokensPerSecond: "-2", EnvOpenAIURL: "ftp://x"}, 0, []string{EnvLogFormat, EnvTokensPerSecond, EnvOpenAIURL}},
	}
	for _, tt := range tests {
		c, err := fromEnv(func(k string) string { return tt.env[k] })
		if tt.wantErr != nil {
			for _, want := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%v: err %v, want it to name %s", tt.env, err, want)
				}
			}
			continue
		}
		if err != nil || c.localaws.TokensPerSecond != tt.wantTPS || c.addr != "localhost:4566" || c.logFormat != logs.Text {
			t.Errorf("%v: cfg %+v, err %v", tt.env, c, err)
		}
	}
}
