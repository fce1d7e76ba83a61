package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// Emitter sends an alert somewhere.
type Emitter interface {
	// Emit sends one alert.
	Emit(ctx context.Context, d Detail) error
}

// Log emits alerts as log events (the default without PORTICO_EVENT_BUS).
type Log struct {
	// Logger receives one Info event per alert.
	Logger *slog.Logger
}

// Emit logs d.
func (l Log) Emit(ctx context.Context, d Detail) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	l.Logger.LogAttrs(ctx, slog.LevelInfo, DetailType, slog.String("source", Source), slog.String("detail_type", DetailType),
		slog.String("detail", string(b)))
	return nil
}

// PutEventsAPI is the part of the EventBridge client EventBridge uses; *eventbridge.Client
// implements it.
type PutEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// EventBridge emits alerts as events on a bus.
type EventBridge struct {
	// Client puts the events.
	Client PutEventsAPI
	// Bus is the event bus name or ARN (PORTICO_EVENT_BUS).
	Bus string
}

// Emit puts one event with source Source and detail-type DetailType. An entry EventBridge
// refuses is an error, as is a failed call.
func (e EventBridge) Emit(ctx context.Context, d Detail) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	out, err := e.Client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		EventBusName: aws.String(e.Bus), Source: aws.String(Source), DetailType: aws.String(DetailType),
		Detail: aws.String(string(b)), Time: aws.Time(d.CrossedAt.Truncate(time.Second)),
	}}})
	if err != nil {
		return fmt.Errorf("put event: %w", err)
	}
	if out.FailedEntryCount > 0 {
		code, msg := "", ""
		if len(out.Entries) > 0 {
			code, msg = aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage)
		}
		return fmt.Errorf("put event: %w: %s %s", errRefused, code, msg)
	}
	return nil
}

var errRefused = errors.New("EventBridge refused the event")
