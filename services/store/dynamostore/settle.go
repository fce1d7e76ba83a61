package dynamostore

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portico-dev/portico/services/store"
)

// Settle converts t's holds into its actual usage and writes its record, once. See
// store.Store and the package documentation.
func (s *Store) Settle(ctx context.Context, t store.Ticket, o store.Outcome) error {
	if err := s.ready("settle"); err != nil {
		return err
	}
	ctx, cancel := s.opts.SettleContext(ctx)
	defer cancel()
	rec := store.NewRecord(t, o)
	for _, h := range t.Holds {
		if _, err := h.Settlement(rec); err != nil {
			return err
		}
	}
	id := rec.RequestID
	// A release in progress finishes in a few writes: wait for it a little.
	for attempt, delay := 0, 5*time.Millisecond; ; attempt, delay = attempt+1, 2*delay {
		state, it, err := s.claim(ctx, id)
		if err != nil {
			return err
		}
		switch state {
		case stateSettling:
			return s.settleWith(ctx, t, rec, s.settleCounters, false)
		case stateSettled:
			return nil
		case stateLate:
			rec.Late = true
			if it.FromSettling {
				return s.settleWith(ctx, t, rec, s.settleFromSettlingCounters, true)
			}
			return s.settleWith(ctx, t, rec, s.settleLateCounters, false)
		case stateReleasing:
			if attempt == 6 {
				return store.Unavailable("settle", context.DeadlineExceeded)
			}
			select {
			case <-ctx.Done():
				return store.Unavailable("settle", ctx.Err())
			case <-time.After(delay):
			}
		default:
			return store.Unavailable("settle", errUnknownState(state))
		}
	}
}

type errUnknownState string

func (e errUnknownState) Error() string { return "reservation in unknown state " + string(e) }

// claim moves reservation id to the state its Settle continues from: settling (it held),
// late (it had been released, or never existed), or returns settled, releasing or late
// when another Settle or a release owns it. For late it also returns the reservation's item
// (zero for one that never existed).
func (s *Store) claim(ctx context.Context, id string) (string, reservationItem, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.tableName(),
		Key:                       key(reservationPK(id), "RSV"),
		UpdateExpression:          aws.String("SET #s = :settling"),
		ConditionExpression:       aws.String("#s IN (:holding, :settling)"),
		ExpressionAttributeNames:  map[string]string{"#s": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":holding": str(stateHolding), ":settling": str(stateSettling)},
	})
	if err == nil {
		return stateSettling, reservationItem{}, nil
	}
	if !isConditionFailed(err) {
		return "", reservationItem{}, store.Unavailable("settle", err)
	}
	// Released, settled, being released, or absent: claim a released or absent one for a
	// late settle, so that only one Settle adds its usage.
	late, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.tableName(),
		Key:                       key(reservationPK(id), "RSV"),
		UpdateExpression:          aws.String("SET #s = :late"),
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR #s = :released"),
		ExpressionAttributeNames:  map[string]string{"#s": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":late": str(stateLate), ":released": str(stateReleased)},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err == nil {
		var it reservationItem
		if err := attributevalue.UnmarshalMap(late.Attributes, &it); err != nil {
			return "", reservationItem{}, store.Unavailable("settle", err)
		}
		return stateLate, it, nil
	}
	if !isConditionFailed(err) {
		return "", reservationItem{}, store.Unavailable("settle", err)
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.tableName(), Key: key(reservationPK(id), "RSV"), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", reservationItem{}, store.Unavailable("settle", err)
	}
	// A late one is continued: its counter writes are marked per request id (lateSettled) and
	// its record is written once, so finishing another Settle's late settle (or a failed one
	// of ours) charges nothing twice and loses no record.
	var it reservationItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return "", reservationItem{}, store.Unavailable("settle", err)
	}
	return getStr(out.Item, "state"), it, nil
}

// settleWith writes a settle's three independent parts at once (the counters with
// counters, the usage summary, the record), then marks the reservation settled. Each part is
// idempotent on its own, so retrying after a failure is safe. For a reservation that held,
// counters is settleCounters: each hold becomes used once, thanks to the holds marker. For
// one whose holds were already released, it is settleLateCounters: the usage is added with
// no hold to convert, and each counter remembers the request ids it was charged late
// (lateSettled, kept as long as the counter), so a retry applies each once.
func (s *Store) settleWith(ctx context.Context, t store.Ticket, rec store.Record,
	counters func(context.Context, store.Ticket, store.Record) error, fromSettling bool) error {
	err := parallel(
		func() error { return counters(ctx, t, rec) },
		func() error { return s.settleSummary(ctx, t, rec, fromSettling) },
		func() error { return s.putRecord(ctx, rec) },
	)
	if err != nil {
		return err
	}
	return s.finish(ctx, rec.RequestID, stateSettled)
}

// parallel runs fns at once and returns the first error, in fns' order, once all are done.
// Settle's writes are independent of one another (each is idempotent on its own), so they
// cost one round trip instead of one each; only marking the reservation settled waits for
// all of them.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns[1:] {
		wg.Go(func() { errs[i+1] = fn() })
	}
	errs[0] = fns[0]()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// settleCounters converts each of t's holds into rec's usage.
func (s *Store) settleCounters(ctx context.Context, t store.Ticket, rec store.Record) error {
	id := rec.RequestID
	return s.chargeEach(ctx, t, rec, func(h store.Hold, a int64) *dynamodb.UpdateItemInput {
		return &dynamodb.UpdateItemInput{
			UpdateExpression:         aws.String("ADD #u :a, #r :negn, #c :delta DELETE #h :id"),
			ConditionExpression:      aws.String("contains(#h, :idv)"),
			ExpressionAttributeNames: names("#u", "#r", "#c", "#h"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":a": num(a), ":negn": num(-h.Amount), ":delta": num(a - h.Amount), ":id": set(id), ":idv": str(id),
			},
		}
	})
}

// chargeEach writes, to each of t's counters at once, the conditional update charge returns
// for its hold and the hold's settled amount (the table and the counter's key are filled
// in). A failed condition means the write was already applied or is not this Settle's to
// make: it is not an error. It returns the first other error, in t's order.
func (s *Store) chargeEach(ctx context.Context, t store.Ticket, rec store.Record, charge func(h store.Hold, a int64) *dynamodb.UpdateItemInput) error {
	return s.eachHold(t, func(h store.Hold) error {
		a, err := h.Settlement(rec)
		if err != nil {
			return err
		}
		in := charge(h, a)
		in.TableName, in.Key = s.tableName(), key(counterPK(h.Key), "CTR")
		if _, err := s.db.UpdateItem(ctx, in); err != nil && !isConditionFailed(err) {
			return store.Unavailable("settle", err)
		}
		return nil
	})
}

// eachHold runs fn for every hold of t at once and returns the first error, in t's order.
func (s *Store) eachHold(t store.Ticket, fn func(store.Hold) error) error {
	fns := make([]func() error, len(t.Holds))
	for i, h := range t.Holds {
		fns[i] = func() error { return fn(h) }
	}
	if len(fns) == 0 {
		return nil
	}
	return parallel(fns...)
}

// settleLateCounters adds rec's usage to each of t's counters once (lateSettled).
func (s *Store) settleLateCounters(ctx context.Context, t store.Ticket, rec store.Record) error {
	return s.chargeEach(ctx, t, rec, func(h store.Hold, a int64) *dynamodb.UpdateItemInput {
		return &dynamodb.UpdateItemInput{
			UpdateExpression:         aws.String("ADD #u :a, #c :a, #l :id SET #ra = if_not_exists(#ra, :r), #ttl = if_not_exists(#ttl, :ttl)"),
			ConditionExpression:      aws.String("NOT contains(#l, :idv)"),
			ExpressionAttributeNames: names("#u", "#c", "#l", "#ra", "#ttl"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":a": num(a), ":r": num(h.ResetsAt.UnixNano()), ":ttl": num(h.ResetsAt.Add(counterTTL).Unix()),
				":id": set(rec.RequestID), ":idv": str(rec.RequestID),
			},
		}
	})
}

// settleFromSettlingCounters adds rec's usage to each of t's counters whose hold the
// release of an abandoned Settle gave back: those holding the request id in
// releasedFromSettling, which each write takes out, so a retry charges nothing twice and a
// counter the abandoned Settle had already charged is not charged again (see release).
func (s *Store) settleFromSettlingCounters(ctx context.Context, t store.Ticket, rec store.Record) error {
	return s.chargeEach(ctx, t, rec, func(_ store.Hold, a int64) *dynamodb.UpdateItemInput {
		return &dynamodb.UpdateItemInput{
			UpdateExpression:          aws.String("ADD #u :a, #c :a DELETE #x :id"),
			ConditionExpression:       aws.String("contains(#x, :idv)"),
			ExpressionAttributeNames:  names("#u", "#c", "#x"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":a": num(a), ":id": set(rec.RequestID), ":idv": str(rec.RequestID)},
		}
	})
}

func (s *Store) putRecord(ctx context.Context, rec store.Record) error {
	item, err := attributevalue.MarshalMap(toItem(rec))
	if err != nil {
		return store.Unavailable("settle", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: s.tableName(), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if err != nil && !isConditionFailed(err) {
		return store.Unavailable("settle", err)
	}
	return nil
}
