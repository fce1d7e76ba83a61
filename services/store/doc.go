// Package store keeps Portico's quota counters, usage ledger and audit trail behind one small
// interface, [Store], with two implementations that hold the same contract
// (package storetest): sqlitestore (the embedded default, one file) and dynamostore (DynamoDB,
// for AWS). Limits hold across processes and instances in both.
//
// # Metering a request
//
// The Inference handler meters every model call in two steps:
//
//  1. Before the call, [Store.Reserve] holds the request's worst case — its estimated input
//     tokens plus its max_tokens, and one request — against every quota that applies, all or
//     nothing. If any counter would pass its limit, nothing is held and the error is a
//     [*QuotaError] (errors.Is(err, [ErrQuotaExceeded])) naming the limit, its used and
//     reserved amounts and when its window resets: answer RESOURCE_EXHAUSTED with
//     [QuotaError.Proto] and a RetryAfter detail at [QuotaStatus.ResetsAt].
//  2. After the call — on success, on error and on client cancel alike — [Store.Settle]
//     replaces the hold by what was actually used and writes the request's [Record] (its
//     ledger entry and audit record, one and the same). Settle is exactly-once per ticket:
//     retrying it is safe.
//
// Settle runs even when the request's context has been cancelled (it detaches from the
// cancellation itself, keeping ctx's values, under its own timeout); callers should still
// pass context.WithoutCancel(ctx) to make the intent plain.
//
// If a process dies between Reserve and Settle, its holds are released once the
// reservation is older than [Options.ReservationTTL] (set it above the longest request
// Portico lets run); nothing is recorded for such a request. A Settle that arrives after its
// reservation was released still records the request and adds its usage (Record.Late).
//
// # Windows and counters
//
// Windows are calendar periods in UTC: a minute, a day, a month. A request counts in the
// windows current when it was reserved ([Ticket.Time]), even if it settles after they
// end. Counters are keyed by subject, unit, window and window start ([CounterKey]); the
// limit itself is not stored but passed with every Reserve, so policy changes apply at once.
// Tokens counters count input plus output tokens; requests counters count each request once,
// whatever its outcome. Settle adds the actual usage even when it is above the hold (the
// provider's count is the truth), so a counter's used may end above its limit when an
// input estimate was low; the next Reserve is then refused.
//
// Counter arithmetic saturates at math.MaxInt64 ([AddSat], [Record.Tokens], [Totals.Add]):
// counts however large never wrap around to a negative number. Settle only ever raises a
// counter's used figure ([Hold.Settlement] refuses a negative delta), and a counter read
// back with a negative figure is an error matching [ErrCorrupt], never zero. Each record
// says where its counts come from ([UsageSource]: reported, estimated or clamped).
//
// Money is recorded as integer nanos of US dollars (see package catalog).
//
// # Budgets
//
// A budget is a limit of unit QUOTA_UNIT_COST, counted in nanos of the price table's currency
// (counter keys ".../cost/<window>/..."). Reserve holds [Reservation.Cost] (the request's
// worst-case cost at the prices of the moment) against it, as it holds Tokens against a
// tokens limit; Settle charges the record's CostNanos, the estimated cost, so that a budget's
// used figure is exactly the sum of the ledger's costs in its window. Budgets hold under
// concurrency exactly as token quotas do (the storetest suite races 100 requests against a
// budget for 10 on both stores).
//
// # Governance
//
// Both stores also implement [Governance]: the policy's numbered versions ([PolicyStore];
// version base+1 is written only if base is the latest, across every instance), threshold
// marks for quota alerts ([AlertStore]; one per counter and threshold, listed a page at a
// time, one per counter at its highest threshold, in [CompareAlerts] order), and a side-effect-free
// read of counters ([CounterReader]). Records carry the caller's department (chargeback:
// [UsageFilter.Department], the department dimension) and, for administrative actions, a
// detail.
package store
