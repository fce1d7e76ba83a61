package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portico-dev/portico/services/store"
)

// A usage summary is the sums of one (day, user, groups, model, department) combination's
// records. Settle adds each record to its summary in one conditional write, so Usage and
// ListUsage read a number of items that depends on the combinations in a range, never on how
// many requests were made.
//
// Exactly once without transactions works as for counters: Reserve adds the request id to the
// summary's `pending` set (beside the counter holds, not after them), Settle adds the request's
// totals and deletes the id IF the set contains it, and a release deletes it without adding
// anything. A late settle (its reservation released first) adds IF the id is not in the
// summary's `late` set, and adds it there.

// summaryAttrs names the summary attributes in expressions.
var summaryAttrs = map[string]string{
	"#req": "requests", "#err": "errors", "#in": "inputTokens", "#out": "outputTokens", "#cost": "costNanos",
	"#p": "pending", "#l": "late", "#x": "releasedFromSettling", "#day": "day", "#user": "user", "#model": "modelId", "#dept": "department",
	"#groups": "groups", "#g1pk": "GSI1PK", "#g1sk": "GSI1SK",
}

// summaryNames returns the expression attribute names for the placeholders given.
func summaryNames(placeholders ...string) map[string]string {
	m := make(map[string]string, len(placeholders))
	for _, p := range placeholders {
		m[p] = summaryAttrs[p]
	}
	return m
}

func summaryPK(user string) string       { return "USAGE#" + user }
func summaryMonthPK(day string) string   { return summaryMonthOf(day[:len("2006-01")]) }
func summaryMonthOf(month string) string { return "USAGEM#" + month }
func summarySK(day, facet string) string { return "D#" + day + "#" + facet }

// summaryOf is where a request's usage is summed.
type summaryOf struct {
	PK, SK, Day, User, ModelID, Department string
	Groups                                 []string
	facet                                  string
}

// summaryFor returns the summary ticket t's record is added to: its user's, on its UTC day,
// for its groups, model and department (the facet, hashed into the sort key).
func summaryFor(t store.Ticket) summaryOf {
	r := t.Reservation
	day := t.Time.UTC().Format(time.DateOnly)
	h := sha256.New()
	for _, s := range append([]string{r.ModelID, r.Department}, r.Groups...) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	facet := hex.EncodeToString(h.Sum(nil)[:16])
	return summaryOf{PK: summaryPK(r.User), SK: summarySK(day, facet), Day: day, User: r.User, ModelID: r.ModelID,
		Department: r.Department, Groups: r.Groups, facet: facet}
}

// describe returns the SET clause and values that write the summary's own attributes (the
// same for every request it sums).
func (s summaryOf) describe(values map[string]types.AttributeValue) string {
	groups := make([]types.AttributeValue, len(s.Groups))
	for i, g := range s.Groups {
		groups[i] = str(g)
	}
	values[":day"], values[":user"], values[":model"], values[":dept"] = str(s.Day), str(s.User), str(s.ModelID), str(s.Department)
	values[":groups"] = &types.AttributeValueMemberL{Value: groups}
	values[":g1pk"], values[":g1sk"] = str(summaryMonthPK(s.Day)), str(s.Day+"#"+s.User+"#"+s.facet)
	return "SET #day = :day, #user = :user, #model = :model, #dept = :dept, #groups = :groups, #g1pk = :g1pk, #g1sk = :g1sk"
}

// holdSummary marks request id pending on its summary, creating the summary if needed.
func (s *Store) holdSummary(ctx context.Context, id string, sum summaryOf) error {
	values := map[string]types.AttributeValue{":id": set(id)}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.tableName(),
		Key:                       key(sum.PK, sum.SK),
		UpdateExpression:          aws.String(sum.describe(values) + " ADD #p :id"),
		ExpressionAttributeNames:  summaryNames("#p", "#day", "#user", "#model", "#dept", "#groups", "#g1pk", "#g1sk"),
		ExpressionAttributeValues: values,
	})
	return store.Unavailable("reserve", err)
}

// releaseSummary takes request id off its summary's pending set, adding nothing. A release
// from settling (fromSettling) also leaves the id in the summary's releasedFromSettling set,
// in the same write, so that a late Settle adds the totals only if this release took them
// back (see release).
func (s *Store) releaseSummary(ctx context.Context, id, pk, sk string, fromSettling bool) error {
	in := &dynamodb.UpdateItemInput{
		TableName:                 s.tableName(),
		Key:                       key(pk, sk),
		UpdateExpression:          aws.String("DELETE #p :id"),
		ConditionExpression:       aws.String("contains(#p, :idv)"),
		ExpressionAttributeNames:  summaryNames("#p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": set(id), ":idv": str(id)},
	}
	if fromSettling {
		in.UpdateExpression = aws.String("DELETE #p :id ADD #x :id")
		in.ExpressionAttributeNames = summaryNames("#p", "#x")
	}
	_, err := s.db.UpdateItem(ctx, in)
	if isConditionFailed(err) {
		return nil
	}
	return store.Unavailable("release", err)
}

// settleSummary adds rec's totals to its summary once: converting its pending mark; for a
// late settle, marking it late; for the late settle of a reservation released from
// settling, only if that release took the totals back (consuming its mark).
func (s *Store) settleSummary(ctx context.Context, t store.Ticket, rec store.Record, fromSettling bool) error {
	if err := s.summariesBegin(ctx); err != nil {
		return err
	}
	sum := summaryFor(t)
	tot := rec.Totals()
	values := map[string]types.AttributeValue{
		":req": num(tot.Requests), ":err": num(tot.Errors), ":in": num(tot.InputTokens), ":out": num(tot.OutputTokens),
		":cost": num(tot.CostNanos), ":id": set(rec.RequestID), ":idv": str(rec.RequestID),
	}
	add := "ADD #req :req, #err :err, #in :in, #out :out, #cost :cost"
	names := summaryNames("#req", "#err", "#in", "#out", "#cost")
	in := &dynamodb.UpdateItemInput{TableName: s.tableName(), Key: key(sum.PK, sum.SK), ExpressionAttributeValues: values}
	switch {
	case rec.Late && fromSettling:
		in.UpdateExpression = aws.String(add + " DELETE #x :id")
		in.ConditionExpression = aws.String("contains(#x, :idv)")
		names["#x"] = summaryAttrs["#x"]
	case rec.Late:
		in.UpdateExpression = aws.String(sum.describe(values) + " " + add + ", #l :id")
		in.ConditionExpression = aws.String("NOT contains(#l, :idv)")
		for k, v := range summaryNames("#l", "#day", "#user", "#model", "#dept", "#groups", "#g1pk", "#g1sk") {
			names[k] = v
		}
	default:
		in.UpdateExpression = aws.String(add + " DELETE #p :id")
		in.ConditionExpression = aws.String("contains(#p, :idv)")
		names["#p"] = summaryAttrs["#p"]
	}
	in.ExpressionAttributeNames = names
	_, err := s.db.UpdateItem(ctx, in)
	if err != nil && !isConditionFailed(err) {
		return store.Unavailable("settle", err)
	}
	return nil
}

// summaryFact reads a summary item as a usage fact; ok is false for a summary of no request
// yet (its requests were refused, released or are still running).
func summaryFact(item map[string]types.AttributeValue) (f store.Fact, ok bool, err error) {
	k := getStr(item, "PK") + " " + getStr(item, "SK")
	t := &f.Totals
	for _, x := range []struct {
		name string
		dst  *int64
	}{{"requests", &t.Requests}, {"errors", &t.Errors}, {"inputTokens", &t.InputTokens}, {"outputTokens", &t.OutputTokens}, {"costNanos", &t.CostNanos}} {
		if *x.dst, err = getCount(item, k, x.name); err != nil {
			return f, false, err
		}
	}
	if t.Requests == 0 {
		return f, false, nil
	}
	f.Day, f.User, f.ModelID, f.Department = getStr(item, "day"), getStr(item, "user"), getStr(item, "modelId"), getStr(item, "department")
	if l, isList := item["groups"].(*types.AttributeValueMemberL); isList {
		for _, g := range l.Value {
			if s, isStr := g.(*types.AttributeValueMemberS); isStr {
				f.Groups = append(f.Groups, s.Value)
			}
		}
	}
	return f, true, nil
}

// querySummaries calls fn with each summary of one partition, of the base table (a user's
// summaries, strongly consistent) or of GSI1 (a month's, everyone's), whose sort key lies
// between lo and hi.
func (s *Store) querySummaries(ctx context.Context, index, pk, lo, hi string, fn func(store.Fact)) error {
	in := &dynamodb.QueryInput{
		TableName:                 s.tableName(),
		KeyConditionExpression:    aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames:  map[string]string{"#pk": "PK", "#sk": "SK"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":lo": str(lo), ":hi": str(hi)},
	}
	if index == "" {
		in.ConsistentRead = aws.Bool(true)
	} else {
		in.IndexName = aws.String(index)
		in.ExpressionAttributeNames = map[string]string{"#pk": index + "PK", "#sk": index + "SK"}
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return store.Unavailable("query usage", err)
		}
		for _, item := range out.Items {
			f, ok, err := summaryFact(item)
			if err != nil {
				return err
			}
			if ok {
				fn(f)
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// userSummaries calls fn with user's summaries of the days first to last (YYYY-MM-DD).
func (s *Store) userSummaries(ctx context.Context, user, first, last string, fn func(store.Fact)) error {
	// "$" sorts right after "#": the bounds take in every facet of the days first to last.
	return s.querySummaries(ctx, "", summaryPK(user), "D#"+first+"#", "D#"+last+"$", fn)
}

// allSummaries calls fn with everyone's summaries of the days first to last, month by month.
func (s *Store) allSummaries(ctx context.Context, first, last string, fn func(store.Fact)) error {
	for m := first[:len("2006-01")]; m <= last[:len("2006-01")]; m = nextMonth(m) {
		if err := s.querySummaries(ctx, "GSI1", summaryMonthOf(m), first+"#", last+"$", fn); err != nil {
			return err
		}
	}
	return nil
}

// nextMonth returns the month after m (YYYY-MM).
func nextMonth(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return "9999-99" // unreachable: m comes from a validated day; end the loop
	}
	return t.AddDate(0, 1, 0).Format("2006-01")
}
