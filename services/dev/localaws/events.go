package localaws

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// EventBridge's PutEvents, enough for Portico's quota alerts to go through the real SDK in
// development and tests: the AWS JSON 1.1 protocol (POST / with X-Amz-Target
// AWSEvents.PutEvents), SigV4 for the service "events", at most 10 entries of at most 256 KB
// in all. Events are kept in memory (the most recent MaxEvents) and logged; nothing is
// delivered anywhere, and the log says so.

// MaxEvents is how many received events the server keeps.
const MaxEvents = 1000

// Event is one event PutEvents received.
type Event struct {
	// ID is the event id the server answered.
	ID string
	// Bus is the EventBusName entry field ("default" when empty).
	Bus string
	// Source, DetailType and Detail are the entry's fields; Detail is a JSON object.
	Source, DetailType, Detail string
	// Time is when it was received.
	Time time.Time
}

// eventLog keeps received events.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

// Events returns the events PutEvents received, oldest first.
func (s *Server) Events() []Event {
	s.events.mu.Lock()
	defer s.events.mu.Unlock()
	return append([]Event(nil), s.events.events...)
}

type putEventsEntry struct {
	Source       string `json:"Source"`
	DetailType   string `json:"DetailType"`
	Detail       string `json:"Detail"`
	EventBusName string `json:"EventBusName"`
}

type putEventsResultEntry struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

// handleTarget serves the AWS JSON 1.1 operations, chosen by X-Amz-Target.
func (s *Server) handleTarget(w http.ResponseWriter, r *http.Request) {
	rid := newRequestID()
	if target := r.Header.Get("X-Amz-Target"); target != "AWSEvents.PutEvents" {
		newAWSError(http.StatusBadRequest, "UnknownOperationException", "The local AWS endpoint does not serve "+strconv.Quote(target)+".").write(w, rid)
		return
	}
	body, aerr := s.readSigned(w, r, "events")
	if aerr != nil {
		aerr.write(w, rid)
		return
	}
	var in struct {
		Entries []putEventsEntry `json:"Entries"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		newAWSError(http.StatusBadRequest, "SerializationException", "The request is not valid JSON.").write(w, rid)
		return
	}
	if len(in.Entries) == 0 || len(in.Entries) > 10 {
		newAWSError(http.StatusBadRequest, "ValidationException", "PutEvents takes from 1 to 10 entries.").write(w, rid)
		return
	}
	if len(body) > 256<<10 {
		newAWSError(http.StatusBadRequest, "ValidationException", "Total size of the entries in the request is over the limit.").write(w, rid)
		return
	}
	out := struct {
		FailedEntryCount int                    `json:"FailedEntryCount"`
		Entries          []putEventsResultEntry `json:"Entries"`
	}{}
	now := s.now().UTC()
	for _, e := range in.Entries {
		var detail map[string]any
		switch {
		case e.Source == "" || e.DetailType == "" || e.Detail == "":
			out.FailedEntryCount++
			out.Entries = append(out.Entries, putEventsResultEntry{ErrorCode: "InvalidArgument", ErrorMessage: "Source, DetailType and Detail are required."})
			continue
		case json.Unmarshal([]byte(e.Detail), &detail) != nil:
			out.FailedEntryCount++
			out.Entries = append(out.Entries, putEventsResultEntry{ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed."})
			continue
		}
		bus := e.EventBusName
		if bus == "" {
			bus = "default"
		}
		ev := Event{ID: newRequestID(), Bus: bus, Source: e.Source, DetailType: e.DetailType, Detail: e.Detail, Time: now}
		s.events.mu.Lock()
		s.events.events = append(s.events.events, ev)
		if n := len(s.events.events); n > MaxEvents {
			s.events.events = append([]Event(nil), s.events.events[n-MaxEvents:]...)
		}
		s.events.mu.Unlock()
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "event received by the local AWS endpoint (kept in memory, delivered nowhere)",
			slog.String("bus", bus), slog.String("source", e.Source), slog.String("detail_type", e.DetailType), slog.String("event_id", ev.ID))
		out.Entries = append(out.Entries, putEventsResultEntry{EventID: ev.ID})
	}
	b, _ := json.Marshal(out)
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-Requestid", rid)
	_, _ = w.Write(b)
}
