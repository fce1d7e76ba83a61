package localaws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind names a fault the server can inject.
type FaultKind string

// The faults. Unless noted, a fault answers the request with the AWS error of the service
// called instead of generating.
const (
	// FaultThrottle answers ThrottlingException (429) on Bedrock and ThrottlingException
	// (400, as SageMaker's gateway does) on SageMaker.
	FaultThrottle FaultKind = "throttle"
	// FaultValidation answers ValidationException (Bedrock) or ValidationError (SageMaker), 400.
	FaultValidation FaultKind = "validation"
	// FaultNotReady answers ModelNotReadyException, 429.
	FaultNotReady FaultKind = "notready"
	// FaultCut closes the connection after AfterEvents stream events, without an end or
	// metadata; on a unary call it closes the connection without an answer.
	FaultCut FaultKind = "cut"
	// FaultSlow delays the first token by DelayMs milliseconds, then answers normally.
	FaultSlow FaultKind = "slow"
	// FaultInternal answers InternalServerException (Bedrock) or InternalFailure (SageMaker), 500.
	FaultInternal FaultKind = "internal"
	// FaultModelError answers ModelErrorException (Bedrock) or ModelError (SageMaker), 424,
	// with OriginalStatusCode 500.
	FaultModelError FaultKind = "modelerror"
	// FaultStreamError sends a modelStreamErrorException (Bedrock) or ModelStreamError
	// (SageMaker) exception after AfterEvents events.
	FaultStreamError FaultKind = "streamerror"
	// FaultTimeout answers ModelTimeoutException, 408 (Bedrock only).
	FaultTimeout FaultKind = "timeout"
	// FaultUnavailable answers ServiceUnavailableException (Bedrock) or ServiceUnavailable
	// (SageMaker), 503.
	FaultUnavailable FaultKind = "unavailable"
	// FaultQuota answers ServiceQuotaExceededException, 400 (Bedrock only).
	FaultQuota FaultKind = "quota"
	// FaultAccessDenied answers AccessDeniedException, 403 (Bedrock only).
	FaultAccessDenied FaultKind = "accessdenied"
	// FaultSubscription answers AccessDeniedException, 403, with Bedrock's message for a
	// model whose AWS Marketplace subscription could not be completed (Bedrock only).
	FaultSubscription FaultKind = "subscription"
	// FaultFirstUse answers ResourceNotFoundException, 404, with Bedrock's message for an
	// Anthropic model whose first-use form was not submitted (Bedrock only).
	FaultFirstUse FaultKind = "firstuse"
	// FaultOnDemand answers ValidationException, 400, with Bedrock's message for a model
	// that does not run on demand in the region and needs an inference profile (Bedrock
	// only).
	FaultOnDemand FaultKind = "ondemand"
)

var knownFaults = map[FaultKind]bool{
	FaultThrottle: true, FaultValidation: true, FaultNotReady: true, FaultCut: true,
	FaultSlow: true, FaultInternal: true, FaultModelError: true, FaultStreamError: true,
	FaultTimeout: true, FaultUnavailable: true, FaultQuota: true, FaultAccessDenied: true,
	FaultSubscription: true, FaultFirstUse: true, FaultOnDemand: true,
}

// Fault is a fault to inject into requests for a target.
//
// In a prompt, the marker "[[fault:KIND]]" or "[[fault:KIND:N]]" injects the fault KIND into
// that request alone; N is AfterEvents for cut and streamerror and DelayMs for slow. For
// SageMaker the marker may appear anywhere in the request body.
type Fault struct {
	// Target is a Bedrock model id, a SageMaker endpoint name, or "*" for every target.
	Target string `json:"target"`
	// Fault is the kind of fault.
	Fault FaultKind `json:"fault"`
	// Count is how many requests the fault applies to; 0 means every request until cleared.
	Count int `json:"count,omitempty"`
	// AfterEvents is, for cut and streamerror, how many stream events are sent before the
	// fault strikes.
	AfterEvents int `json:"afterEvents,omitempty"`
	// DelayMs is, for slow, the delay before the first token in milliseconds.
	DelayMs int `json:"delayMs,omitempty"`
}

func (f Fault) validate() error {
	if !knownFaults[f.Fault] {
		return fmt.Errorf("unknown fault %q", f.Fault)
	}
	if f.Target == "" {
		return errors.New("target is required (a model id, an endpoint name or *)")
	}
	if f.Count < 0 || f.AfterEvents < 0 || f.DelayMs < 0 {
		return errors.New("count, afterEvents and delayMs must not be negative")
	}
	return nil
}

// Faults is the set of faults injected into requests, safe for concurrent use.
type Faults struct {
	mu    sync.Mutex
	rules []*Fault
}

// Add injects a fault into the coming requests for its target.
func (fs *Faults) Add(f Fault) error {
	if err := f.validate(); err != nil {
		return err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = append(fs.rules, &f)
	return nil
}

// Clear removes every fault.
func (fs *Faults) Clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = nil
}

// take returns the first fault that applies to a request for target, consuming one of its
// count.
func (fs *Faults) take(target string) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.rules {
		if f.Target != "*" && f.Target != target && !profileOf(target, f.Target) {
			continue
		}
		out := *f
		if f.Count > 0 {
			f.Count--
			if f.Count == 0 {
				fs.rules = append(fs.rules[:i], fs.rules[i+1:]...)
			}
		}
		return out, true
	}
	return Fault{}, false
}

// profileOf reports whether target is a cross-region inference profile of model (a
// geography prefix and the model id, such as us.<model>): a fault on a model applies to the
// calls that reach it through a profile, as the services make from a region where the model
// is not on demand (services/catalog, Model.Route).
func profileOf(target, model string) bool {
	geo, rest, ok := strings.Cut(target, ".")
	return ok && rest == model && slices.Contains([]string{"us", "eu", "apac", "global", "us-gov", "ca", "jp", "au"}, geo)
}

var faultMarker = regexp.MustCompile(`\[\[fault:([a-z]+)(?::([0-9]+))?\]\]`)

// markerFault returns the fault named by a marker in text, if any.
func markerFault(text string) (Fault, bool) {
	m := faultMarker.FindStringSubmatch(text)
	if m == nil || !knownFaults[FaultKind(m[1])] {
		return Fault{}, false
	}
	f := Fault{Target: "*", Fault: FaultKind(m[1]), Count: 1}
	if m[2] != "" {
		n, _ := strconv.Atoi(m[2])
		if f.Fault == FaultSlow {
			f.DelayMs = n
		} else {
			f.AfterEvents = n
		}
	}
	return f, true
}

// faultFor picks the fault for a request: a marker in its text first, then the registry.
func (s *Server) faultFor(target, text string) (Fault, bool) {
	if f, ok := markerFault(text); ok {
		return f, true
	}
	return s.faults.take(target)
}

// handleFaults serves POST and DELETE /_portico/faults.
func (s *Server) handleFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodDelete:
		s.faults.Clear()
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPost:
		var f Fault
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			http.Error(w, "bad fault: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.faults.Add(f); err != nil {
			http.Error(w, "bad fault: "+err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "POST, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// beforeAnswer applies a unary call's cut and slow faults before anything is answered: a cut
// aborts the connection, a slow one waits. It reports false when the caller went away
// during the wait and nothing should be answered.
func beforeAnswer(ctx context.Context, f Fault) bool {
	if f.Fault == FaultCut {
		abortConnection()
	}
	if f.Fault == FaultSlow {
		return sleepCtx(ctx, time.Duration(f.DelayMs)*time.Millisecond) == nil
	}
	return true
}
