package dynamostore

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/store"
)

var _ store.Governance = (*Store)(nil)

// Policy versions live in one partition, POLICY: the head item (SK HEAD) holds the number of
// the version in force, read by LatestPolicyVersion (one strongly consistent GetItem); each
// version is an item SK V#<version, zero-padded>. Alert marks are items ALERT#<counter
// key>#<threshold> / ALERT; each counter with a mark has one listed item ALERT#<counter key>
// / LISTED, a copy of its highest mark, in GSI1 partition ALERTS#<window end> under the
// mark's store.AlertMark.ListKey.
const (
	policyPartition = "POLICY"
	policyHeadSK    = "HEAD"
	alertMarkSK     = "ALERT"
	alertListedSK   = "LISTED"
)

func policyVersionSK(v int64) string { return fmt.Sprintf("V#%020d", v) }

func alertPK(key string, threshold int) string { return "ALERT#" + key + "#" + strconv.Itoa(threshold) }

func alertListedPK(key string) string { return "ALERT#" + key }

// alertPartition is the GSI1 partition of the listed marks of the windows ending at end.
func alertPartition(end time.Time) string { return "ALERTS#" + timeKey(end) }

type policyItem struct {
	PK            string   `dynamodbav:"PK"`
	SK            string   `dynamodbav:"SK"`
	Version       int64    `dynamodbav:"version"`
	TimeNs        int64    `dynamodbav:"timeNs"`
	Author        string   `dynamodbav:"author"`
	AuthorSubject string   `dynamodbav:"authorSubject"`
	Kind          string   `dynamodbav:"kind"`
	Restored      int64    `dynamodbav:"restoredVersion"`
	Comment       string   `dynamodbav:"comment"`
	Changes       []string `dynamodbav:"changes"`
	YAML          string   `dynamodbav:"yaml"`
}

func (it policyItem) version() store.PolicyVersion {
	changes := it.Changes
	if len(changes) == 0 {
		changes = nil
	}
	return store.PolicyVersion{
		Version: it.Version, Time: time.Unix(0, it.TimeNs).UTC(), Author: it.Author, AuthorSubject: it.AuthorSubject,
		Kind: it.Kind, Restored: it.Restored, Comment: it.Comment, Changes: changes, YAML: it.YAML,
	}
}

// LatestPolicyVersion reads the head item. See store.PolicyStore.
func (s *Store) LatestPolicyVersion(ctx context.Context) (int64, error) {
	if err := s.ready("latest policy version"); err != nil {
		return 0, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.tableName(), Key: key(policyPartition, policyHeadSK), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#v"), ExpressionAttributeNames: map[string]string{"#v": "version"},
	})
	if err != nil {
		return 0, store.Unavailable("latest policy version", err)
	}
	return getNum(out.Item, "version"), nil
}

// PolicyVersion reads one version. See store.PolicyStore.
func (s *Store) PolicyVersion(ctx context.Context, version int64) (store.PolicyVersion, error) {
	if err := s.ready("policy version"); err != nil {
		return store.PolicyVersion{}, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.tableName(), Key: key(policyPartition, policyVersionSK(version)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return store.PolicyVersion{}, store.Unavailable("policy version", err)
	}
	if len(out.Item) == 0 {
		return store.PolicyVersion{}, fmt.Errorf("policy version %d: %w", version, store.ErrNotFound)
	}
	var it policyItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return store.PolicyVersion{}, store.Unavailable("policy version", err)
	}
	return it.version(), nil
}

// AddPolicyVersion writes the version item if no item has its number and the head names the
// version before it, then moves the head. See store.PolicyStore.
//
// The version item's condition is what makes one writer win: two edits based on the same
// version both try to create the same item. If a writer dies between its two writes, the
// head lags one version behind an item that exists; the next writer's conditional put fails
// on that item, moves the head to it and reports a stale version, so the lag heals itself
// and its editor reloads.
func (s *Store) AddPolicyVersion(ctx context.Context, v store.PolicyVersion) error {
	if v.Version < 1 {
		return store.Invalid("policy version %d", v.Version)
	}
	if err := s.ready("add policy version"); err != nil {
		return err
	}
	head, err := s.LatestPolicyVersion(ctx)
	if err != nil {
		return err
	}
	if head != v.Version-1 {
		return fmt.Errorf("policy version %d (the latest is %d): %w", v.Version, head, store.ErrStaleVersion)
	}
	item, err := attributevalue.MarshalMap(policyItem{
		PK: policyPartition, SK: policyVersionSK(v.Version), Version: v.Version, TimeNs: v.Time.UnixNano(),
		Author: v.Author, AuthorSubject: v.AuthorSubject, Kind: v.Kind, Restored: v.Restored, Comment: v.Comment,
		Changes: v.Changes, YAML: v.YAML,
	})
	if err != nil {
		return store.Unavailable("add policy version", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: s.tableName(), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	stale := isConditionFailed(err)
	if err != nil && !stale {
		return store.Unavailable("add policy version", err)
	}
	// Move the head to this version (or, when the item existed, to the one found there):
	// never backwards.
	_, herr := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: s.tableName(), Key: key(policyPartition, policyHeadSK),
		UpdateExpression:          aws.String("SET #v = :v"),
		ConditionExpression:       aws.String("attribute_not_exists(#v) OR #v < :v"),
		ExpressionAttributeNames:  map[string]string{"#v": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(v.Version)},
	})
	if herr != nil && !isConditionFailed(herr) {
		return store.Unavailable("add policy version", herr)
	}
	if stale {
		return fmt.Errorf("policy version %d: %w", v.Version, store.ErrStaleVersion)
	}
	return nil
}

type versionToken struct {
	V int64 `json:"v"`
}

// ListPolicyVersions queries the POLICY partition backwards. See store.PolicyStore.
func (s *Store) ListPolicyVersions(ctx context.Context, f store.PolicyVersionFilter) (store.PolicyVersionPage, error) {
	size, err := store.AuditFilter{PageSize: f.PageSize}.Size()
	if err != nil {
		return store.PolicyVersionPage{}, err
	}
	hi := "V#~"
	if f.PageToken != "" {
		var tok versionToken
		if err := store.DecodePageToken(f.PageToken, &tok); err != nil {
			return store.PolicyVersionPage{}, err
		}
		if tok.V < 1 {
			return store.PolicyVersionPage{}, store.Invalid("malformed page token")
		}
		hi = policyVersionSK(tok.V - 1)
	}
	if err := s.ready("list policy versions"); err != nil {
		return store.PolicyVersionPage{}, err
	}
	in := &dynamodb.QueryInput{
		TableName:              s.tableName(),
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(policyPartition), ":lo": str("V#"), ":hi": str(hi),
		},
		ScanIndexForward: aws.Bool(false),
		ConsistentRead:   aws.Bool(true),
		Limit:            aws.Int32(int32(size + 1)), //nolint:gosec // G115: at most MaxPageSize+1
	}
	var page store.PolicyVersionPage
	for len(page.Versions) <= size {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return store.PolicyVersionPage{}, store.Unavailable("list policy versions", err)
		}
		for _, item := range out.Items {
			var it policyItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return store.PolicyVersionPage{}, store.Unavailable("list policy versions", err)
			}
			page.Versions = append(page.Versions, it.version())
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if len(page.Versions) > size {
		page.Versions = page.Versions[:size]
		page.NextPageToken = store.EncodePageToken(versionToken{V: page.Versions[size-1].Version})
	}
	return page, nil
}

type alertItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	GSI1PK     string `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK     string `dynamodbav:"GSI1SK,omitempty"`
	Key        string `dynamodbav:"counterKey"`
	Threshold  int    `dynamodbav:"threshold"`
	User       string `dynamodbav:"user"`
	Department string `dynamodbav:"department"`
	Subject    int32  `dynamodbav:"limitSubject"`
	Group      string `dynamodbav:"limitGroup"`
	Window     int32  `dynamodbav:"limitWindow"`
	Unit       int32  `dynamodbav:"limitUnit"`
	Max        int64  `dynamodbav:"limitMax"`
	Used       int64  `dynamodbav:"used"`
	Reserved   int64  `dynamodbav:"reserved"`
	ResetsAt   int64  `dynamodbav:"resetsAt"`
	TimeNs     int64  `dynamodbav:"timeNs"`
	TTL        int64  `dynamodbav:"ttl"`
}

func alertItemOf(m store.AlertMark) alertItem {
	return alertItem{
		Key: m.Key, Threshold: m.Threshold, User: m.User, Department: m.Department,
		Subject: int32(m.Limit.Subject), Group: m.Limit.Group, Window: int32(m.Limit.Window), Unit: int32(m.Limit.Unit),
		Max: m.Limit.Max, Used: m.Used, Reserved: m.Reserved, ResetsAt: m.ResetsAt.UnixNano(), TimeNs: m.Time.UnixNano(),
		TTL: m.ResetsAt.Add(counterTTL).Unix(),
	}
}

// MarkAlert puts the mark if none exists for its key and threshold and, when it did, puts
// the counter's listed item IF it lists a lower threshold or none: whatever the order in
// which racing instances mark 80 and 100 %, the listed item ends at the highest. See
// store.AlertStore.
func (s *Store) MarkAlert(ctx context.Context, m store.AlertMark) (bool, error) {
	if err := m.Validate(); err != nil {
		return false, err
	}
	if err := s.ready("mark alert"); err != nil {
		return false, err
	}
	it := alertItemOf(m)
	it.PK, it.SK = alertPK(m.Key, m.Threshold), alertMarkSK
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return false, store.Unavailable("mark alert", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: s.tableName(), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if isConditionFailed(err) {
		return false, s.relist(ctx, it.PK)
	}
	if err != nil {
		return false, store.Unavailable("mark alert", err)
	}
	if err := s.list(ctx, it); err != nil {
		return false, err
	}
	s.listed.add(it.PK)
	return true, nil
}

// list writes the listed item of mark it (ListAlerts reads those): one per counter, at its
// highest threshold, whatever order marks arrive in.
func (s *Store) list(ctx context.Context, it alertItem) error {
	m := it.mark()
	it.PK, it.SK, it.GSI1PK, it.GSI1SK = alertListedPK(m.Key), alertListedSK, alertPartition(m.ResetsAt), m.ListKey()
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return store.Unavailable("list alert", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: s.tableName(), Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR #t < :t"),
		ExpressionAttributeNames:  map[string]string{"#t": "threshold"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": num(int64(m.Threshold))},
	})
	if err != nil && !isConditionFailed(err) {
		return store.Unavailable("list alert", err)
	}
	return nil
}

// relist makes sure the recorded mark pk has its listed item: a mark recorded before listed
// items existed, or whose listing write failed, is listed at its counter's next check, from
// what the mark recorded (its crossing time, not the check's). Each instance does it once per
// mark (s.listed), so a counter checked on every request past its threshold costs one read
// and one write here in all, not per request.
func (s *Store) relist(ctx context.Context, pk string) error {
	if s.listed.has(pk) {
		return nil
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.tableName(), Key: key(pk, alertMarkSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return store.Unavailable("list alert", err)
	}
	if out.Item == nil {
		return nil // expired since the condition saw it
	}
	var it alertItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return store.Unavailable("list alert", err)
	}
	if err := s.list(ctx, it); err != nil {
		return err
	}
	s.listed.add(pk)
	return nil
}

// ListAlerts queries, for each current window, GSI1's partition of the window's listed marks
// for up to a page and one after the page token. See store.AlertStore.
func (s *Store) ListAlerts(ctx context.Context, f store.AlertFilter) (store.AlertPage, error) {
	size, after, err := f.Page()
	if err != nil {
		return store.AlertPage{}, err
	}
	if err := s.ready("list alerts"); err != nil {
		return store.AlertPage{}, err
	}
	var runs [][]store.AlertMark
	for _, end := range store.AlertWindowEnds(f.Now) {
		run, err := s.alertRun(ctx, end, after, size+1)
		if err != nil {
			return store.AlertPage{}, err
		}
		runs = append(runs, run)
	}
	return store.MergeAlertPages(size, runs...), nil
}

// alertRun returns up to n listed marks of the window ending at end, after the list key
// after (from the first when it is empty), reading no more items than it returns.
func (s *Store) alertRun(ctx context.Context, end time.Time, after string, n int) ([]store.AlertMark, error) {
	in := &dynamodb.QueryInput{
		TableName:                 s.tableName(),
		IndexName:                 aws.String("GSI1"),
		KeyConditionExpression:    aws.String("GSI1PK = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(alertPartition(end))},
	}
	if after != "" {
		in.KeyConditionExpression = aws.String("GSI1PK = :p AND GSI1SK > :a")
		in.ExpressionAttributeValues[":a"] = str(after)
	}
	var out []store.AlertMark
	for len(out) < n {
		in.Limit = aws.Int32(int32(n - len(out))) //nolint:gosec // G115: at most MaxPageSize+1
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, store.Unavailable("list alerts", err)
		}
		for _, item := range page.Items {
			var it alertItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return nil, store.Unavailable("list alerts", err)
			}
			out = append(out, it.mark())
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return out, nil
}

func (it alertItem) mark() store.AlertMark {
	return store.AlertMark{
		Key: it.Key, Threshold: it.Threshold, User: it.User, Department: it.Department,
		Limit: store.Limit{Subject: typeSubject(it.Subject), Group: it.Group, Window: typeWindow(it.Window), Unit: typeUnit(it.Unit), Max: it.Max},
		Used:  it.Used, Reserved: it.Reserved, ResetsAt: time.Unix(0, it.ResetsAt).UTC(), Time: time.Unix(0, it.TimeNs).UTC(),
	}
}

// Counters reads each limit's counter (a strongly consistent GetItem each). See
// store.CounterReader.
func (s *Store) Counters(ctx context.Context, user string, limits []store.Limit) ([]store.QuotaStatus, error) {
	if err := s.ready("counters"); err != nil {
		return nil, err
	}
	for _, l := range limits {
		if err := l.Validate(); err != nil {
			return nil, err
		}
	}
	now := s.opts.Now().UTC()
	out := make([]store.QuotaStatus, len(limits))
	for i, l := range limits {
		k, resets := store.CounterKey(user, l, now)
		res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: s.tableName(), Key: key(counterPK(k), "CTR"), ConsistentRead: aws.Bool(true),
			ProjectionExpression: aws.String("#u, #r, #c"), ExpressionAttributeNames: names("#u", "#r", "#c"),
		})
		if err != nil {
			return nil, store.Unavailable("counters", err)
		}
		used, reserved, err := counterFigures(res.Item, k)
		if err != nil {
			return nil, err
		}
		out[i] = store.QuotaStatus{Limit: l, Used: used, Reserved: reserved, ResetsAt: resets}
	}
	return out, nil
}

func typeSubject(v int32) typev1.QuotaSubject { return typev1.QuotaSubject(v) }
func typeWindow(v int32) typev1.QuotaWindow   { return typev1.QuotaWindow(v) }
func typeUnit(v int32) typev1.QuotaUnit       { return typev1.QuotaUnit(v) }

// maxKeySet bounds a keySet: past it, the set starts again empty (its members are only
// known-done work, so forgetting them costs a repeat, never a mistake).
const maxKeySet = 10_000

// keySet is a bounded set of strings safe for concurrent use; its zero value is empty.
type keySet struct {
	mu sync.Mutex
	m  map[string]struct{}
}

func (k *keySet) has(s string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.m[s]
	return ok
}

func (k *keySet) add(s string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil || len(k.m) >= maxKeySet {
		k.m = make(map[string]struct{})
	}
	k.m[s] = struct{}{}
}
