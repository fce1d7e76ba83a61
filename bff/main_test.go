package bff_test

import (
	"testing"

	"github.com/portico-dev/portico/services/testing/dynalitetest"
)

// TestMain stops the dynalite process the DynamoDB session tests start.
func TestMain(m *testing.M) { dynalitetest.Main(m) }
