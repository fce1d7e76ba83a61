package dynamostore

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/portico-dev/portico/services/conversation"
)

// CountScanPages is the most Scan pages (1 MB each) one CountOwners call reads; a page of
// owners that reaches it ends early, with a token to go on from where the scan stopped.
const CountScanPages = 8

// CountOwners returns a page of owners' counts, in the table's order. See
// conversation.Store and the package documentation: a Scan that returns only the owners'
// count items (sk = "n", projected to their key and the owner's name), then per owner a Query of its summaries
// projected to their numbers.
func (s *Store) CountOwners(ctx context.Context, size int, token string) ([]conversation.OwnerCount, string, error) {
	in := &dynamodb.ScanInput{
		TableName:                 aws.String(s.table),
		FilterExpression:          aws.String("sk = :n"),
		ProjectionExpression:      aws.String("pk, sk, #name"),
		ExpressionAttributeNames:  map[string]string{"#name": "name"},
		ExpressionAttributeValues: item{":n": str("n")},
	}
	if token != "" {
		parts, err := conversation.DecodeCountToken(token, 2)
		if err != nil || !strings.HasPrefix(parts[0], "u#") {
			return nil, "", conversation.ErrBadPageToken
		}
		in.ExclusiveStartKey = item{"pk": str(parts[0]), "sk": str(parts[1])}
	}
	var out []conversation.OwnerCount
	for range CountScanPages {
		page, err := s.db.Scan(ctx, in)
		if err != nil {
			return nil, "", conversation.Unavailable("count owners", err)
		}
		for _, it := range page.Items {
			owner, ok := strings.CutPrefix(getStr(it, "pk"), "u#")
			if !ok {
				continue
			}
			c, err := s.countOwner(ctx, owner)
			if err != nil {
				return nil, "", conversation.Unavailable("count owners", err)
			}
			c.Name = getStr(it, "name")
			if c.Conversations == 0 {
				continue
			}
			out = append(out, c)
			if len(out) == size {
				// The count item just read is where the next page starts.
				return out, conversation.EncodeCountToken(pk(owner), "n"), nil
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, "", nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return out, conversation.EncodeCountToken(getStr(in.ExclusiveStartKey, "pk"), getStr(in.ExclusiveStartKey, "sk")), nil
}

// countOwner sums an owner's live summaries' numbers.
func (s *Store) countOwner(ctx context.Context, owner string) (conversation.OwnerCount, error) {
	c := conversation.OwnerCount{Owner: owner}
	err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :c)"),
		ExpressionAttributeValues: item{":pk": str(pk(owner)), ":c": str("c#")},
		ExpressionAttributeNames:  map[string]string{"#count": "count", "#bytes": "bytes"},
		ProjectionExpression:      aws.String("#count, #bytes, expiresAt"),
	}, maxListPages, func(items []item) {
		for _, it := range items {
			if s.live(it) {
				c.Conversations++
				c.Messages += getNum(it, "count")
				c.Bytes += getNum(it, "bytes")
			}
		}
	})
	return c, err
}
