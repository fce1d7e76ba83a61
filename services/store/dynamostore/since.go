package dynamostore

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portico-dev/portico/services/store"
)

// Usage summaries arrived after the ledger: a table may hold records that no summary counts
// (written before them). The item USAGE# / SINCE records the day from which summaries are
// complete: the day after the first summary was written, or every day (allDays) when the
// table held no record then. Reads sum the records of the days up to and including it, and
// the summaries of the days after it, so upgrading loses nothing and needs no backfill;
// after that day, reads no longer depend on how many requests were made.
//
// Every instance makes sure the item exists before its first summary write (summariesBegin):
// the first one ever writes it with if_not_exists, so it names a day no later than any
// summary. Old instances still running during a deployment reserve before the new ones, so
// their requests belong to the day of the first summary or earlier, which reads from records.

// allDays is the SINCE day of a table whose summaries count every record.
const allDays = "0000-00-00"

// noSummaries is the SINCE day read while no summary has been written: every day reads
// records.
const noSummaries = "9999-12-31"

func sinceItemKey() map[string]types.AttributeValue { return key(summaryPK(""), "SINCE") }

// summariesBegin makes sure the SINCE item exists before this instance's first summary write.
func (s *Store) summariesBegin(ctx context.Context) error {
	if s.since.Load() != nil {
		return nil
	}
	s.sinceMu.Lock()
	defer s.sinceMu.Unlock()
	if s.since.Load() != nil {
		return nil
	}
	day, err := s.readSince(ctx)
	if err != nil {
		return err
	}
	if day == noSummaries {
		now := s.opts.Now().UTC()
		day = now.Format(time.DateOnly)
		found, err := s.anyRecord(ctx, now)
		if err != nil {
			return err
		}
		if !found {
			day = allDays
		}
		out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 s.tableName(),
			Key:                       sinceItemKey(),
			UpdateExpression:          aws.String("SET #day = if_not_exists(#day, :day)"),
			ExpressionAttributeNames:  summaryNames("#day"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":day": str(day)},
			ReturnValues:              types.ReturnValueAllNew,
		})
		if err != nil {
			return store.Unavailable("reserve", err)
		}
		day = getStr(out.Attributes, "day")
	}
	s.since.Store(&day)
	return nil
}

// summariesSince returns the SINCE day: the last day whose usage is read from records.
func (s *Store) summariesSince(ctx context.Context) (string, error) {
	if d := s.since.Load(); d != nil {
		return *d, nil
	}
	day, err := s.readSince(ctx)
	if err != nil {
		return "", err
	}
	if day != noSummaries {
		s.since.Store(&day) // once written, it never changes
	}
	return day, nil
}

// readSince reads the SINCE day, noSummaries when absent.
func (s *Store) readSince(ctx context.Context) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.tableName(), Key: sinceItemKey(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", store.Unavailable("usage", err)
	}
	if d := getStr(out.Item, "day"); d != "" {
		return d, nil
	}
	return noSummaries, nil
}

// anyRecord reports whether the table holds a record of the last AuditHorizonMonths months
// (one small query per month, stopping at the first record found; done once per table).
func (s *Store) anyRecord(ctx context.Context, now time.Time) (bool, error) {
	for m, i := firstOfMonth(now), 0; i <= AuditHorizonMonths; m, i = m.AddDate(0, -1, 0), i+1 {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 s.tableName(),
			IndexName:                 aws.String("GSI1"),
			KeyConditionExpression:    aws.String("GSI1PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(monthPK(m))},
			Limit:                     aws.Int32(1),
		})
		if err != nil {
			return false, store.Unavailable("reserve", err)
		}
		if len(out.Items) > 0 {
			return true, nil
		}
	}
	return false, nil
}
