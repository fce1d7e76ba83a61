package localaws

import (
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream/eventstreamapi"
)

// errStreamCut is returned by eventWriter when a fault cut the stream: the handler must abort
// the connection without a clean end.
var errStreamCut = errors.New("localaws: stream cut by fault")

// eventWriter writes AWS event-stream messages to a response, flushing after each one, and
// counts them so a fault can cut the stream after a given number of events.
type eventWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	enc     *eventstream.Encoder
	sent    int
	cutAt   int // cut the stream before event number cutAt+1; -1 for never
	started bool
}

func newEventWriter(w http.ResponseWriter, cutAt int) *eventWriter {
	return &eventWriter{w: w, rc: http.NewResponseController(w), enc: eventstream.NewEncoder(), cutAt: cutAt}
}

func (ew *eventWriter) start() {
	if ew.started {
		return
	}
	ew.started = true
	ew.w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	ew.w.WriteHeader(http.StatusOK)
}

// event writes one event message of type eventType with a payload of the given content type.
func (ew *eventWriter) event(eventType, contentType string, payload []byte) error {
	if ew.cutAt >= 0 && ew.sent >= ew.cutAt {
		return errStreamCut
	}
	ew.start()
	var msg eventstream.Message
	msg.Headers.Set(eventstreamapi.EventTypeHeader, eventstream.StringValue(eventType))
	msg.Headers.Set(eventstreamapi.ContentTypeHeader, eventstream.StringValue(contentType))
	msg.Headers.Set(eventstreamapi.MessageTypeHeader, eventstream.StringValue(eventstreamapi.EventMessageType))
	msg.Payload = payload
	if err := ew.enc.Encode(ew.w, msg); err != nil {
		return err
	}
	ew.sent++
	return ew.rc.Flush()
}

// exception writes an exception message, which ends the stream.
func (ew *eventWriter) exception(exceptionType string, e *awsError) error {
	ew.start()
	var msg eventstream.Message
	msg.Headers.Set(eventstreamapi.ExceptionTypeHeader, eventstream.StringValue(exceptionType))
	msg.Headers.Set(eventstreamapi.ContentTypeHeader, eventstream.StringValue("application/json"))
	msg.Headers.Set(eventstreamapi.MessageTypeHeader, eventstream.StringValue(eventstreamapi.ExceptionMessageType))
	msg.Payload = e.payload()
	if err := ew.enc.Encode(ew.w, msg); err != nil {
		return err
	}
	ew.sent++
	return ew.rc.Flush()
}
