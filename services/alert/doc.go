// Package alert tells people and administrators when consumption passes 80 % and 100 % of a
// quota or budget, once per threshold per window.
//
// After a request settles, the [Watcher] reads the counters of the day and month limits the
// request was charged to (store.CounterReader: one small read per limit) and, for each limit
// whose settled usage has reached a threshold, records a mark (store.AlertStore.MarkAlert, a
// conditional write on (counter, threshold)). The one call that records a mark first, on
// whichever instance, emits the alert; every other finds the mark and stays silent. So an
// alert is emitted at most once per subject, limit, window and threshold. Per-minute request
// limits are rate limits, not budgets: they never alert.
//
// Checks run off the request path, at most [DefaultConcurrency] at a time; a check that finds
// no free slot is skipped (a later request's check notices the crossing, since marks are
// idempotent). A failed check is logged and changes nothing.
//
// Alerts are emitted through an [Emitter]: [EventBridge] puts an event on a bus
// (PORTICO_EVENT_BUS) with source [Source] and detail-type [DetailType], whose detail is
// [Detail] (who, which limit, used of limit, threshold, window end: never a prompt, a token
// or a secret); without a bus, [Log] writes the same detail as a log event. The people
// concerned see their alerts in GetMe (identity), administrators the marks in ListNearLimit
// (admin).
package alert
