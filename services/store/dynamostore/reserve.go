package dynamostore

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portico-dev/portico/services/store"
)

// counterTTL is how long after its window ends a counter is kept.
const counterTTL = 7 * 24 * time.Hour

// finishedTTL is how long a settled or released reservation is kept (it rejects a reused
// request id meanwhile).
const finishedTTL = 30 * 24 * time.Hour

// Reserve holds r's worst case on every counter, all or nothing. See store.Store and the
// package documentation.
func (s *Store) Reserve(ctx context.Context, r store.Reservation) (store.Ticket, error) {
	if err := s.ready("reserve"); err != nil {
		return store.Ticket{}, err
	}
	now := s.opts.Now()
	t, err := store.Plan(r, now, s.opts.ReservationTTL)
	if err != nil {
		return store.Ticket{}, err
	}
	holds := make([]holdItem, len(t.Holds))
	for i, h := range t.Holds {
		holds[i] = holdItem{Key: h.Key, Amount: h.Amount, ResetsAt: h.ResetsAt.UnixNano()}
	}
	sum := summaryFor(t)
	item, err := attributevalue.MarshalMap(reservationItem{
		PK: reservationPK(r.RequestID), SK: "RSV", State: stateHolding, Holds: holds,
		ExpiresAt: t.ExpiresAt.UnixNano(), GSI1PK: expiryPartition, GSI1SK: timeKey(t.ExpiresAt) + "#" + r.RequestID,
		UsagePK: sum.PK, UsageSK: sum.SK,
	})
	if err != nil {
		return store.Ticket{}, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: s.tableName(), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if isConditionFailed(err) {
		return store.Ticket{}, store.Invalid("request id %q was already reserved", r.RequestID)
	}
	if err != nil {
		return store.Ticket{}, store.Unavailable("reserve", err)
	}

	// The summary's pending mark is written beside the counter holds, not after them.
	summaryDone := make(chan error, 1)
	go func() {
		err := s.summariesBegin(ctx)
		if err == nil {
			err = s.holdSummary(ctx, r.RequestID, sum)
		}
		summaryDone <- err
	}()
	err = s.holdAll(ctx, t, now)
	if serr := <-summaryDone; err == nil {
		err = serr
	}
	if err == nil {
		return t, nil
	}
	// Unwind with a context that survives the caller's cancellation; if this fails too, the
	// reservation's expiry releases what is left.
	uctx, cancel := s.opts.SettleContext(ctx)
	uerr := s.release(uctx, r.RequestID, stateHolding)
	cancel()
	if uerr != nil {
		return store.Ticket{}, store.Unavailable("reserve", errors.Join(err, uerr))
	}
	if errors.Is(err, store.ErrQuotaExceeded) {
		// A refused request leaves no trace: its id may be used again.
		uctx, cancel := s.opts.SettleContext(ctx)
		_, derr := s.db.DeleteItem(uctx, &dynamodb.DeleteItemInput{
			TableName: s.tableName(), Key: key(reservationPK(r.RequestID), "RSV"),
			ConditionExpression:       aws.String("#s = :released"),
			ExpressionAttributeNames:  map[string]string{"#s": "state"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":released": str(stateReleased)},
		})
		cancel()
		if derr != nil && !isConditionFailed(derr) {
			return store.Ticket{}, store.Unavailable("reserve", derr)
		}
	}
	return store.Ticket{}, err
}

// holdAll raises t's counters one by one in key order, sweeping abandoned reservations once
// when a limit refuses; it returns the first refusal or failure.
func (s *Store) holdAll(ctx context.Context, t store.Ticket, now time.Time) error {
	swept := false
	for i := 0; i < len(t.Holds); i++ {
		err := s.hold(ctx, t.Reservation.RequestID, t.Holds[i], now)
		if err == nil {
			continue
		}
		if errors.Is(err, store.ErrQuotaExceeded) && !swept {
			// Abandoned reservations may be what is in the way: release them, try again.
			swept = true
			n, serr := s.releaseExpired(ctx, now)
			if serr == nil && n > 0 {
				i--
				continue
			}
		}
		return err
	}
	return nil
}

// hold raises one counter by h.Amount if it stays within its limit; otherwise it returns a
// *store.QuotaError with the counter's state.
func (s *Store) hold(ctx context.Context, id string, h store.Hold, now time.Time) error {
	if h.Amount <= h.Limit.Max {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:        s.tableName(),
			Key:              key(counterPK(h.Key), "CTR"),
			UpdateExpression: aws.String("ADD #r :n, #c :n, #h :id SET #ra = if_not_exists(#ra, :r), #ttl = if_not_exists(#ttl, :ttl)"),
			// A negative consumed figure is corrupt, never room: the hold is refused, and the
			// read below reports the corruption.
			ConditionExpression:      aws.String("(attribute_not_exists(#c) OR (#c >= :zero AND #c <= :max)) AND NOT contains(#h, :idv)"),
			ExpressionAttributeNames: names("#r", "#c", "#h", "#ra", "#ttl"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":n": num(h.Amount), ":id": set(id), ":idv": str(id), ":max": num(h.Limit.Max - h.Amount), ":zero": num(0),
				":r": num(h.ResetsAt.UnixNano()), ":ttl": num(h.ResetsAt.Add(counterTTL).Unix()),
			},
		})
		if err == nil {
			return nil
		}
		if !isConditionFailed(err) {
			return store.Unavailable("reserve", err)
		}
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.tableName(), Key: key(counterPK(h.Key), "CTR"), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return store.Unavailable("reserve", err)
	}
	used, reserved, err := counterFigures(out.Item, h.Key)
	if err != nil {
		return err
	}
	qe, err := h.Refusal(used, reserved)
	if err != nil {
		return err
	}
	if qe != nil {
		return qe
	}
	// The counter moved between the write and the read: report it as full all the same.
	return &store.QuotaError{
		Status:    store.QuotaStatus{Limit: h.Limit, Used: used, Reserved: reserved, ResetsAt: h.ResetsAt},
		Requested: h.Amount,
	}
}

// release claims reservation id (from state `from` to releasing), releases every hold it
// has on a counter, and marks it released. A reservation in another state is left alone.
//
// A reservation released from settling (a Settle that failed half-way and was abandoned)
// may have had some holds converted into usage already, and its summary added; a later
// retry of that Settle must charge only what this release gave back, or it would count the
// rest twice. So such a release leaves the request id in the releasedFromSettling set of
// each counter and of the summary it gives back, in the same write that gives it back, and
// its late Settle charges exactly the ones that hold the id, taking it out as it charges
// (settleFromSettlingCounters). Other releases (an unwound or expired reservation, whose
// holds were all still held) leave no mark. The reservation remembers how its release began
// (fromSettling), so a release retried from releasing continues the same way.
func (s *Store) release(ctx context.Context, id, from string) error {
	claim := &dynamodb.UpdateItemInput{
		TableName:                 s.tableName(),
		Key:                       key(reservationPK(id), "RSV"),
		UpdateExpression:          aws.String("SET #s = :releasing"),
		ConditionExpression:       aws.String("#s IN (:from, :releasing)"),
		ExpressionAttributeNames:  map[string]string{"#s": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":from": str(from), ":releasing": str(stateReleasing)},
		ReturnValues:              types.ReturnValueAllNew,
	}
	if from == stateSettling {
		claim.UpdateExpression = aws.String("SET #s = :releasing, #fs = :true")
		claim.ExpressionAttributeNames["#fs"] = "fromSettling"
		claim.ExpressionAttributeValues[":true"] = &types.AttributeValueMemberBOOL{Value: true}
	}
	out, err := s.db.UpdateItem(ctx, claim)
	if isConditionFailed(err) {
		return nil
	}
	if err != nil {
		return store.Unavailable("release", err)
	}
	var it reservationItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return store.Unavailable("release", err)
	}
	give := "ADD #r :neg, #c :neg DELETE #h :id"
	attrs := names("#r", "#c", "#h")
	if it.FromSettling {
		give = "ADD #r :neg, #c :neg, #x :id DELETE #h :id"
		attrs = names("#r", "#c", "#h", "#x")
	}
	for _, h := range it.Holds {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                s.tableName(),
			Key:                      key(counterPK(h.Key), "CTR"),
			UpdateExpression:         aws.String(give),
			ConditionExpression:      aws.String("contains(#h, :idv)"),
			ExpressionAttributeNames: attrs,
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":neg": num(-h.Amount), ":id": set(id), ":idv": str(id),
			},
		})
		if err != nil && !isConditionFailed(err) {
			return store.Unavailable("release", err)
		}
	}
	if it.UsagePK != "" {
		if err := s.releaseSummary(ctx, id, it.UsagePK, it.UsageSK, it.FromSettling); err != nil {
			return err
		}
	}
	return s.finish(ctx, id, stateReleased)
}

// finish marks reservation id settled or released and takes it out of the EXPIRY index.
func (s *Store) finish(ctx context.Context, id, state string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.tableName(),
		Key:                       key(reservationPK(id), "RSV"),
		UpdateExpression:          aws.String("SET #s = :s, #ttl = :ttl REMOVE GSI1PK, GSI1SK"),
		ExpressionAttributeNames:  map[string]string{"#s": "state", "#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": str(state), ":ttl": num(s.opts.Now().Add(finishedTTL).Unix())},
	})
	return store.Unavailable("finish reservation", err)
}

// releaseExpired releases the reservations that expired at or before now, oldest first,
// at most 100 per call, and returns how many it found.
func (s *Store) releaseExpired(ctx context.Context, now time.Time) (int, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              s.tableName(),
		IndexName:              aws.String("GSI1"),
		KeyConditionExpression: aws.String("GSI1PK = :p AND GSI1SK <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": str(expiryPartition), ":now": str(timeKey(now) + "$"),
		},
		Limit: aws.Int32(100),
	})
	if err != nil {
		return 0, store.Unavailable("release expired", err)
	}
	for _, item := range out.Items {
		id := getStr(item, "PK")[len("RSV#"):]
		from := getStr(item, "state")
		switch from {
		case stateHolding, stateReleasing:
		case stateSettling:
			// A Settle that failed half-way and was never retried: after a second TTL,
			// release what it did not settle, so that it does not stay in the index.
			if time.Unix(0, getNum(item, "expiresAt")).Add(s.opts.ReservationTTL).After(now) {
				continue
			}
		default:
			continue
		}
		if err := s.release(ctx, id, from); err != nil {
			return 0, err
		}
	}
	return len(out.Items), nil
}
