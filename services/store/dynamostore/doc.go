// Package dynamostore is the store.Store for AWS: one DynamoDB table (single-table design),
// limits enforced with conditional writes so they hold across every Lambda instance.
//
// # Key schema
//
// The table has a string partition key PK and sort key SK, and two global secondary
// indexes, GSI1 (GSI1PK, GSI1SK) and GSI2 (GSI2PK, GSI2SK), both projecting all attributes:
//
//	item          PK                      SK    GSI1PK / GSI1SK                 GSI2PK / GSI2SK
//	counter       CTR#<counter key>       CTR   -                               -
//	reservation   RSV#<request id>        RSV   EXPIRY / <expiry>#<id> (*)      -
//	record        REC#<request id>        REC   AUDIT#<yyyy-mm> / <time>#<id>   AUDITU#<user> / <time>#<id>
//	policy head   POLICY                  HEAD  -                               -
//	policy        POLICY                  V#<version, 20 digits>  -             -
//	alert mark    ALERT#<counter key>#<threshold>  ALERT  -                 -
//	listed alert  ALERT#<counter key>     LISTED  ALERTS#<window end> / <list key>  -
//	usage summary USAGE#<user>            D#<day>#<facet>  USAGEM#<yyyy-mm> / <day>#<user>#<facet>  -
//	summaries' start  USAGE#              SINCE -                               -
//
// <counter key> is store.CounterKey ("user/alice/tokens/day/2026-11-24"); <time> and
// <expiry> are Unix nanoseconds, zero-padded to 20 digits, so that sort keys order by time.
// (*) only while the reservation holds: the sparse EXPIRY partition lists the
// reservations that may need releasing, oldest first.
//
// The policy's versions (store.PolicyStore) share the partition POLICY: the head item holds
// `version`, the number in force, read with one strongly consistent GetItem per version check;
// each version item holds its YAML text, author, kind, comment and changes. A version is
// written with PutItem IF attribute_not_exists(PK) (of two editors on the same base, one
// wins), then the head is moved forward with UpdateItem IF version < :v (never backwards; a
// head left behind by a writer that died is moved by the next writer, whose put then fails
// as stale). Alert marks (store.AlertStore) are put IF attribute_not_exists(PK), once per
// counter and threshold. The mark that was put is then copied to its counter's listed item
// IF that item lists a lower threshold or none (attribute_not_exists(PK) OR threshold < :t),
// so the listed item ends at the counter's highest threshold whatever the order of racing
// writers. The two puts are not one transaction, which dynalite lacks: when the second
// fails after the SDK's retries, MarkAlert returns the error, and the counter's next check
// (whose put of the mark fails its condition) reads the mark and lists it as it was put
// (relist), once per instance and mark: an instance remembers the marks it knows to be
// listed, so a counter checked on every request past its threshold costs no more than one
// read and one write per instance. Listed items are in GSI1 partition ALERTS#<window end> (<window end> as <time>),
// under store.AlertMark.ListKey, whose byte order is the listing order (highest threshold,
// newest, counter key): ListAlerts queries the partition of each current window (minute,
// day, month) with GSI1SK > the page token's key and Limit page size + 1, and merges the
// three, so a page reads at most three pages of items. Marks and listed items have a `ttl`
// a week after the window. (Marks written before listed items existed are in GSI1
// partition ALERTS, which nothing reads any more; such a counter is listed at its next
// check, as above.) Records carry `department` and, for administrative actions,
// `detail` (absent on records written before them: empty).
//
// Records (one per request: the ledger entry and the audit record) are listed newest
// first from GSI2 for one user, or from GSI1 month by month for everyone (at most
// AuditHorizonMonths back when no start time is given). Counters, reservations and records
// carry a `ttl` attribute (Unix seconds) for DynamoDB's time-to-live to delete them:
// counters a week after their window ends, finished reservations after 30 days; records
// never expire, nor do usage summaries.
//
// Usage totals and ListUsage read usage summaries, not records: one item per UTC day, user
// and facet (a hash of the model, the department and the groups, which the item also holds)
// with `requests`, `errors`, `inputTokens`, `outputTokens` and `costNanos`, so that a read
// costs as many items as the range has combinations, whatever the number of requests. A
// user's summaries are one partition of the table (read strongly consistent); everyone's
// are listed from GSI1 month by month. The item USAGE# / SINCE names the day from which
// summaries are complete, for tables that held records before summaries existed: the
// days up to it read records as before (see since.go).
//
// # Conditional writes
//
// A counter holds `used`, `reserved`, `consumed` (always used + reserved) and `holds`, the
// string set of request ids holding an amount on it. DynamoDB conditions cannot add, so
// `used + reserved + n <= limit` is written as `consumed <= :max` with :max = limit - n:
//
//	reserve: ADD reserved :n, consumed :n, holds :id   IF (no consumed OR 0 <= consumed <= :max) AND NOT contains(holds, :id)
//	settle:  ADD used :a, reserved -:n, consumed :a-:n DELETE holds :id   IF contains(holds, :id)
//	release: ADD reserved -:n, consumed -:n DELETE holds :id              IF contains(holds, :id)
//	late:    ADD used :a, consumed :a, lateSettled :id                    IF NOT contains(lateSettled, :id)
//
// A Settle that failed half-way and was abandoned is released after a second expiry; some of
// its holds (and its summary) may have been settled already. That release gives back what
// was still held and marks each counter and summary it gave back with the request id, in
// the same write (release: … ADD releasedFromSettling :id), and a retried Settle of it then
// charges exactly those, consuming the mark (ADD used :a, consumed :a DELETE
// releasedFromSettling :id IF contains(releasedFromSettling, :id)); the reservation's
// `fromSettling` flag tells a retried release and the late Settle which way to go. Without
// it, the retried Settle would charge the already settled counters a second time.
//
// A usage summary takes the same marks: Reserve adds the request id to its `pending` set
// (beside the counter holds, in parallel), Settle adds the request's totals and deletes the
// id IF the set contains it, a release deletes it, and a late settle adds IF NOT
// contains(late, :id), adding the id to `late`. A summary of refused or released requests
// only holds zero totals, and reads skip it.
//
// The `holds` marker makes every counter write idempotent: a retried settle or release of a
// hold applies once. A late settle (its reservation expired and was released first) has no
// hold to convert; `lateSettled`, the set of request ids charged late, does the same for it. Reserve writes the reservation item (with its holds and expiry)
// first, then raises the counters one by one in counter-key order; if one refuses, the
// ones already raised are released before Reserve returns, and if the process dies in
// between, the reservation's expiry releases them. Other requests may be refused for a few
// milliseconds while a refused reservation unwinds; no request is ever let past a limit.
// Settle claims the reservation (state holding → settling); settles each hold, adds to the
// usage summary and writes the record (IF attribute_not_exists), these writes all at once
// (each is idempotent on its own, so their order does not matter); and marks the
// reservation settled: three round trips whatever the number of counters. Every step can
// be retried. The reservation's state decides between a settle and a release racing for it.
//
// Every figure only grows by what store.Hold.Settlement allows (never a negative delta to
// used). A counter read back with a negative, fractional or non-numeric figure is corrupt
// (store.ErrCorrupt), never zero; a figure past the int64 range reads as math.MaxInt64.
// Records carry `usageSource` (store.UsageSource); records written before it read as their
// `usageEstimated` flag implies. A record of a request grounded in a knowledge base carries
// `kbId`, `kbPassages` and `kbLatencyNs` (store.Retrieval; absent otherwise), never text.
// Records of calls made with a personal API key carry `apiKey`, the key's prefix (absent
// otherwise).
//
// DynamoDB's TransactWriteItems would make a reservation one atomic write; this package
// uses single-item conditional writes instead so that it runs, and is tested, on dynalite,
// which has no transactions. The result is the same guarantee (never past a limit,
// exactly-once settle), at the price of one write per counter.
package dynamostore
