package sqlitestore

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/store"
)

// Usage reports user's quota states and totals. See store.Store.
func (s *Store) Usage(ctx context.Context, user string, limits []store.Limit) (store.Usage, error) {
	now := s.opts.Now().UTC()
	for _, l := range limits {
		if err := l.Validate(); err != nil {
			return store.Usage{}, err
		}
	}
	s.mu.RLock()
	err := s.ready("usage")
	var expired int
	if err == nil {
		err = s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM reservations WHERE expires_at <= ?)`, now.UnixNano()).Scan(&expired)
	}
	s.mu.RUnlock()
	if err != nil {
		return store.Usage{}, store.Unavailable("usage", err)
	}
	if expired != 0 {
		if err := s.inTx(ctx, "usage", func(tx *wtx) error { _, err := releaseExpired(tx, now); return err }); err != nil {
			return store.Usage{}, err
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.ready("usage"); err != nil {
		return store.Usage{}, err
	}
	u := store.Usage{AsOf: now, Quotas: make([]store.QuotaStatus, len(limits))}
	for i, l := range limits {
		key, resets := store.CounterKey(user, l, now)
		q := store.QuotaStatus{Limit: l, ResetsAt: resets}
		var err error
		if q.Used, q.Reserved, err = s.readCounter(ctx, key); err != nil {
			return store.Usage{}, store.Unavailable("usage", err)
		}
		if err := store.CheckCounter(key, q.Used, q.Reserved); err != nil {
			return store.Usage{}, err
		}
		u.Quotas[i] = q
	}
	day, _ := store.Window(typev1.QuotaWindow_QUOTA_WINDOW_DAY, now)
	month, monthEnd := store.Window(typev1.QuotaWindow_QUOTA_WINDOW_MONTH, now)
	var err2 error
	if u.Today, err2 = s.totals(ctx, user, day, day); err2 == nil {
		u.ThisMonth, err2 = s.totals(ctx, user, month, monthEnd.AddDate(0, 0, -1))
	}
	if err2 != nil {
		return store.Usage{}, store.Unavailable("usage", err2)
	}
	return u, nil
}

// totals sums user's usage summaries from day first to day last, inclusive: at most one row
// per day and (groups, model, department) combination, however many requests were made.
func (s *Store) totals(ctx context.Context, user string, first, last time.Time) (store.Totals, error) {
	var sums summed
	err := s.db.QueryRowContext(ctx, `SELECT `+sumColumns+` FROM usage_daily WHERE user = ? AND day >= ? AND day <= ?`,
		user, first.Format(time.DateOnly), last.Format(time.DateOnly)).Scan(sums.dest()...)
	return sums.totals(), err
}

// ListUsage sums the usage summaries of a range of days. See store.Store.
func (s *Store) ListUsage(ctx context.Context, f store.UsageFilter) (store.UsageReport, error) {
	if _, _, err := f.Range(); err != nil {
		return store.UsageReport{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.ready("list usage"); err != nil {
		return store.UsageReport{}, err
	}
	q := `SELECT day, user, groups, model_id, department, requests, errors, input_tokens, output_tokens, cost_nanos
		FROM usage_daily WHERE day >= ? AND day <= ?`
	args := []any{f.StartDay, f.EndDay}
	if f.User != "" {
		q += ` AND user = ?`
		args = append(args, f.User)
	}
	if f.ModelID != "" {
		q += ` AND model_id = ?`
		args = append(args, f.ModelID)
	}
	if f.Department != "" {
		q += ` AND department = ?`
		args = append(args, f.Department)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return store.UsageReport{}, store.Unavailable("list usage", err)
	}
	defer func() { _ = rows.Close() }()
	agg := store.NewAggregator(f)
	for rows.Next() {
		var x store.Fact
		var groups string
		t := &x.Totals
		if err := rows.Scan(&x.Day, &x.User, &groups, &x.ModelID, &x.Department,
			&t.Requests, &t.Errors, &t.InputTokens, &t.OutputTokens, &t.CostNanos); err != nil {
			return store.UsageReport{}, store.Unavailable("list usage", err)
		}
		if err := json.Unmarshal([]byte(groups), &x.Groups); err != nil {
			return store.UsageReport{}, store.Unavailable("list usage", err)
		}
		agg.Add(x)
	}
	if err := rows.Err(); err != nil {
		return store.UsageReport{}, store.Unavailable("list usage", err)
	}
	return agg.Report(), nil
}

type pageToken struct {
	T  int64  `json:"t"`
	ID string `json:"i"`
}

// ListAudit returns records newest first, a page at a time. See store.Store.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) (store.AuditPage, error) {
	size, err := f.Size()
	if err != nil {
		return store.AuditPage{}, err
	}
	var where []string
	var args []any
	if f.PageToken != "" {
		var pt pageToken
		if err := store.DecodePageToken(f.PageToken, &pt); err != nil {
			return store.AuditPage{}, err
		}
		if pt.ID == "" {
			return store.AuditPage{}, store.Invalid("malformed page token")
		}
		where = append(where, `(time_ns < ? OR (time_ns = ? AND request_id < ?))`)
		args = append(args, pt.T, pt.T, pt.ID)
	}
	if !f.Start.IsZero() {
		where = append(where, `time_ns >= ?`)
		args = append(args, f.Start.UnixNano())
	}
	if !f.End.IsZero() {
		where = append(where, `time_ns < ?`)
		args = append(args, f.End.UnixNano())
	}
	if f.User != "" {
		where = append(where, `user = ?`)
		args = append(args, f.User)
	}
	if f.ModelID != "" {
		where = append(where, `model_id = ?`)
		args = append(args, f.ModelID)
	}
	q := `SELECT request_id, time_ns, subject, user, groups, client_id, procedure, model_id, outcome, error_message,
		input_tokens, output_tokens, usage_estimated, cost_nanos, price_table_version, latency_ns, ttft_ns, stop_reason,
		upstream_request_id, source_ip, user_agent, late, usage_source, department, detail, kb_id, kb_passages, kb_latency_ns, api_key FROM ledger`
	if len(where) > 0 {
		// G202: where holds only the constant fragments above; every value is a ? argument.
		q += ` WHERE ` + strings.Join(where, ` AND `) //nolint:gosec // see above
	}
	q += ` ORDER BY time_ns DESC, request_id DESC LIMIT ?`
	args = append(args, size+1)

	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.ready("list audit"); err != nil {
		return store.AuditPage{}, err
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return store.AuditPage{}, store.Unavailable("list audit", err)
	}
	defer func() { _ = rows.Close() }()
	var page store.AuditPage
	for rows.Next() {
		var r store.Record
		var tns, lat, ttft, kbLat int64
		var groups, source string
		if err := rows.Scan(&r.RequestID, &tns, &r.Subject, &r.User, &groups, &r.ClientID, &r.Procedure, &r.ModelID,
			&r.Outcome, &r.ErrorMessage, &r.InputTokens, &r.OutputTokens, &r.UsageEstimated, &r.CostNanos,
			&r.PriceTableVersion, &lat, &ttft, &r.StopReason, &r.UpstreamRequestID, &r.SourceIP, &r.UserAgent, &r.Late,
			&source, &r.Department, &r.Detail, &r.Retrieval.KnowledgeBaseID, &r.Retrieval.Passages, &kbLat, &r.APIKey); err != nil {
			return store.AuditPage{}, store.Unavailable("list audit", err)
		}
		r.UsageSource = store.SourceOf(source, r.UsageEstimated)
		r.Time = time.Unix(0, tns).UTC()
		r.Latency, r.TimeToFirstToken = time.Duration(lat), time.Duration(ttft)
		r.Retrieval.Latency = time.Duration(kbLat)
		if err := json.Unmarshal([]byte(groups), &r.Groups); err != nil {
			return store.AuditPage{}, store.Unavailable("list audit", err)
		}
		if len(r.Groups) == 0 {
			r.Groups = nil
		}
		page.Records = append(page.Records, r)
	}
	if err := rows.Err(); err != nil {
		return store.AuditPage{}, store.Unavailable("list audit", err)
	}
	if len(page.Records) > size {
		page.Records = page.Records[:size]
		last := page.Records[size-1]
		page.NextPageToken = store.EncodePageToken(pageToken{T: last.Time.UnixNano(), ID: last.RequestID})
	}
	return page, nil
}
