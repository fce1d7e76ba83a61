package awsrt_test

import (
	"context"
	"errors"
	"testing"

	"github.com/portico-dev/portico/services/platform/awsrt"
)

func TestNext(t *testing.T) {
	t.Parallel()
	events := make(chan int, 1)
	events <- 7
	if ev, ok, err := awsrt.Next(t.Context(), events); ev != 7 || !ok || err != nil {
		t.Errorf("Next with an event = %v, %v, %v; want 7, true, nil", ev, ok, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, ok, err := awsrt.Next(ctx, events); ok || !errors.Is(err, context.Canceled) {
		t.Errorf("Next after cancel = %v, %v; want false, Canceled", ok, err)
	}
	close(events)
	if _, ok, err := awsrt.Next(t.Context(), events); ok || err != nil {
		t.Errorf("Next on an ended stream = %v, %v; want false, nil", ok, err)
	}
}
