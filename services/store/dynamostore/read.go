package dynamostore

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/store"
)

// Usage reports user's quota states and totals. See store.Store. Totals come from the user's
// usage summaries, read strongly consistent (or, for days before summaries, from GSI2,
// whose reads are eventually consistent).
func (s *Store) Usage(ctx context.Context, user string, limits []store.Limit) (store.Usage, error) {
	if err := s.ready("usage"); err != nil {
		return store.Usage{}, err
	}
	for _, l := range limits {
		if err := l.Validate(); err != nil {
			return store.Usage{}, err
		}
	}
	now := s.opts.Now().UTC()
	if _, err := s.releaseExpired(ctx, now); err != nil {
		return store.Usage{}, err
	}
	u := store.Usage{AsOf: now, Quotas: make([]store.QuotaStatus, len(limits))}
	for i, l := range limits {
		k, resets := store.CounterKey(user, l, now)
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: s.tableName(), Key: key(counterPK(k), "CTR"), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return store.Usage{}, store.Unavailable("usage", err)
		}
		used, reserved, err := counterFigures(out.Item, k)
		if err != nil {
			return store.Usage{}, err
		}
		u.Quotas[i] = store.QuotaStatus{Limit: l, Used: used, Reserved: reserved, ResetsAt: resets}
	}
	monthStart, monthEnd := store.Window(typev1.QuotaWindow_QUOTA_WINDOW_MONTH, now)
	today := now.Format(time.DateOnly)
	err := s.usageFacts(ctx, user, monthStart.Format(time.DateOnly), monthEnd.AddDate(0, 0, -1).Format(time.DateOnly), func(f store.Fact) {
		u.ThisMonth.Add(f.Totals)
		if f.Day == today {
			u.Today.Add(f.Totals)
		}
	})
	if err != nil {
		return store.Usage{}, err
	}
	return u, nil
}

// usageFacts calls fn with the usage of the days first to last (YYYY-MM-DD) of user, or of
// everyone when user is empty: from the records for the days up to the SINCE day (since.go),
// from the summaries for the days after it.
func (s *Store) usageFacts(ctx context.Context, user, first, last string, fn func(store.Fact)) error {
	since, err := s.summariesSince(ctx)
	if err != nil {
		return err
	}
	if first <= since {
		if err := s.recordFacts(ctx, user, first, min(last, since), fn); err != nil {
			return err
		}
	}
	if last <= since {
		return nil
	}
	fromSummaries := func(f store.Fact) {
		if f.Day > since {
			fn(f)
		}
	}
	if user != "" {
		return s.userSummaries(ctx, user, first, last, fromSummaries)
	}
	return s.allSummaries(ctx, first, last, fromSummaries)
}

// recordFacts calls fn with each record of the days first to last, of user (GSI2) or of
// everyone (GSI1, month by month), as a fact.
func (s *Store) recordFacts(ctx context.Context, user, first, last string, fn func(store.Fact)) error {
	start, err := time.Parse(time.DateOnly, first)
	if err != nil {
		return store.Invalid("day %q is not YYYY-MM-DD", first)
	}
	end, err := time.Parse(time.DateOnly, last)
	if err != nil {
		return store.Invalid("day %q is not YYYY-MM-DD", last)
	}
	add := func(r store.Record) bool {
		fn(store.Fact{Day: r.Day(), User: r.User, Groups: r.Groups, ModelID: r.ModelID, Department: r.Department, Totals: r.Totals()})
		return true
	}
	lo, hi := timeKey(start), upTo(end.AddDate(0, 0, 1))
	if user != "" {
		return s.queryRecords(ctx, "GSI2", userPK(user), lo, hi, nil, "", 0, add)
	}
	for m := firstOfMonth(start); !m.After(end); m = m.AddDate(0, 1, 0) {
		if err := s.queryRecords(ctx, "GSI1", monthPK(m), lo, hi, nil, "", 0, add); err != nil {
			return err
		}
	}
	return nil
}

// queryRecords calls fn for each record in one index partition with lo <= sort key <= hi,
// newest first, starting after `after` when set, with an optional model filter, until fn
// returns false.
func (s *Store) queryRecords(ctx context.Context, index, pk, lo, hi string, after map[string]types.AttributeValue,
	model string, limit int32, fn func(store.Record) bool) error {
	pkName, skName := index+"PK", index+"SK"
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		IndexName:                aws.String(index),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{"#pk": pkName, "#sk": skName},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":lo": str(lo), ":hi": str(hi),
		},
		ScanIndexForward:  aws.Bool(false),
		ExclusiveStartKey: after,
	}
	if limit > 0 {
		in.Limit = aws.Int32(limit)
	}
	if model != "" {
		in.FilterExpression = aws.String("modelId = :m")
		in.ExpressionAttributeValues[":m"] = str(model)
	}
	if lo > hi {
		return nil
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return store.Unavailable("query records", err)
		}
		for _, item := range out.Items {
			var it recordItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return store.Unavailable("query records", err)
			}
			if !fn(it.record()) {
				return nil
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// ListUsage sums the usage summaries of a range of days (one user's from the base table, or
// everyone's from GSI1 month by month) and the records of days before summaries. See
// store.Store.
func (s *Store) ListUsage(ctx context.Context, f store.UsageFilter) (store.UsageReport, error) {
	if _, _, err := f.Range(); err != nil {
		return store.UsageReport{}, err
	}
	if err := s.ready("list usage"); err != nil {
		return store.UsageReport{}, err
	}
	agg := store.NewAggregator(f)
	if err := s.usageFacts(ctx, f.User, f.StartDay, f.EndDay, agg.Add); err != nil {
		return store.UsageReport{}, err
	}
	return agg.Report(), nil
}

func firstOfMonth(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

type pageToken struct {
	T  int64  `json:"t"`
	ID string `json:"i"`
}

// ListAudit returns records newest first, a page at a time: from GSI2 for one user, or
// from GSI1 month by month (back to the start time, or AuditHorizonMonths). See
// store.Store.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) (store.AuditPage, error) {
	size, err := f.Size()
	if err != nil {
		return store.AuditPage{}, err
	}
	limit := int32(min(size, store.MaxPageSize) + 1) //nolint:gosec // G115: at most MaxPageSize+1
	var after *pageToken
	if f.PageToken != "" {
		after = new(pageToken)
		if err := store.DecodePageToken(f.PageToken, after); err != nil {
			return store.AuditPage{}, err
		}
		if after.ID == "" {
			return store.AuditPage{}, store.Invalid("malformed page token")
		}
	}
	if err := s.ready("list audit"); err != nil {
		return store.AuditPage{}, err
	}
	now := s.opts.Now().UTC()
	lo, hi := "", "~"
	if !f.Start.IsZero() {
		lo = timeKey(f.Start)
	}
	if !f.End.IsZero() {
		hi = upTo(f.End)
	}
	var page store.AuditPage
	collect := func(r store.Record) bool {
		page.Records = append(page.Records, r)
		return len(page.Records) <= size
	}
	// startKey positions a query after the token's record in the index whose partition
	// key is gsiPK.
	startKey := func(index, gsiPK string) map[string]types.AttributeValue {
		if after == nil {
			return nil
		}
		t := time.Unix(0, after.T).UTC()
		return map[string]types.AttributeValue{
			"PK": str(recordPK(after.ID)), "SK": str("REC"),
			index + "PK": str(gsiPK), index + "SK": str(recordSK(t, after.ID)),
		}
	}
	if f.User != "" {
		err = s.queryRecords(ctx, "GSI2", userPK(f.User), lo, hi, startKey("GSI2", userPK(f.User)), f.ModelID, limit, collect)
	} else {
		top := now.AddDate(0, 1, 0)
		if !f.End.IsZero() && f.End.Before(top) {
			top = f.End // no record is newer than the clock (give or take a month of skew)
		}
		if after != nil {
			top = time.Unix(0, after.T).UTC()
		}
		bottom := firstOfMonth(now).AddDate(0, -AuditHorizonMonths, 0)
		if !f.Start.IsZero() {
			bottom = firstOfMonth(f.Start.UTC())
		}
		for m := firstOfMonth(top.UTC()); !m.Before(bottom) && len(page.Records) <= size && err == nil; m = m.AddDate(0, -1, 0) {
			var sk map[string]types.AttributeValue
			if after != nil && m.Equal(firstOfMonth(time.Unix(0, after.T).UTC())) {
				sk = startKey("GSI1", monthPK(m))
			}
			err = s.queryRecords(ctx, "GSI1", monthPK(m), lo, hi, sk, f.ModelID, limit, collect)
		}
	}
	if err != nil {
		return store.AuditPage{}, err
	}
	if len(page.Records) > size {
		page.Records = page.Records[:size]
		last := page.Records[size-1]
		page.NextPageToken = store.EncodePageToken(pageToken{T: last.Time.UnixNano(), ID: last.RequestID})
	}
	return page, nil
}
