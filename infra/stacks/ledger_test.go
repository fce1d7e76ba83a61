package stacks

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/infra/config"
	"github.com/portico-dev/portico/services/livepolicy"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/dynamostore"
	"github.com/portico-dev/portico/services/testing/dynalitetest"
)

// ledgerCall is one DynamoDB call the services' ledger store made: the IAM action, the index
// a Query read (empty: the table) and the partition key of the item or items.
type ledgerCall struct {
	action, index, pk string
}

// recordingDB is a dynamostore.API on dynalite that records every call.
type recordingDB struct {
	db    *dynamodb.Client
	mu    sync.Mutex
	calls []ledgerCall
}

func (r *recordingDB) add(action, index string, key map[string]types.AttributeValue) {
	pk := ""
	if s, ok := key[TablePartitionKey].(*types.AttributeValueMemberS); ok {
		pk = s.Value
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, ledgerCall{action: "dynamodb:" + action, index: index, pk: pk})
}

func (r *recordingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	r.add("GetItem", "", in.Key)
	return r.db.GetItem(ctx, in, opts...)
}

func (r *recordingDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	r.add("PutItem", "", in.Item)
	return r.db.PutItem(ctx, in, opts...)
}

func (r *recordingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	r.add("UpdateItem", "", in.Key)
	return r.db.UpdateItem(ctx, in, opts...)
}

func (r *recordingDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	r.add("DeleteItem", "", in.Key)
	return r.db.DeleteItem(ctx, in, opts...)
}

// Query records no partition key: the statements that allow a Query have no condition
// (allowedBy refuses a conditioned one), so which partition it reads does not matter here.
func (r *recordingDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	index := ""
	if in.IndexName != nil {
		index = *in.IndexName
	}
	r.add("Query", index, nil)
	return r.db.Query(ctx, in, opts...)
}

// TestLedgerGrantsSuffice runs, against dynalite, what each function other than inference
// (whose grant is every call of the store on every item) does with the ledger, through the
// services' own code (services/livepolicy, services/store/dynamostore), and checks that its
// synthesised role allows every call it made: the action, the table or index, and the
// dynamodb:LeadingKeys condition against the item's partition key. A partition or call the
// code uses and the grant forgets fails here, not as AccessDenied in a deployed function.
func TestLedgerGrantsSuffice(t *testing.T) {
	fileCfg, fileTmpl := synthVariant(t, func(c *config.Config) { c.Policy.Mode = config.PolicyModeFile })
	uat := envs["uat"]
	file := &synthesized{cfg: fileCfg, mainJSON: fileTmpl}
	ctx := context.Background()
	seed := policy.DefaultYAML()
	changed := append(append([]byte{}, seed...), "\n# changed by a deploy\n"...)
	limits := []store.Limit{{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_USER, Window: typev1.QuotaWindow_QUOTA_WINDOW_DAY,
		Unit: typev1.QuotaUnit_QUOTA_UNIT_TOKENS, Max: 1000}}
	// openPolicy opens the live policy as a services process (readOnly false) or the
	// authorizer (true) does, then checks for a new version.
	openPolicy := func(t *testing.T, st *dynamostore.Store, doc []byte, readOnly bool) {
		t.Helper()
		live, err := livepolicy.Open(ctx, livepolicy.Config{Mode: livepolicy.ModeStore, Store: st, Seed: doc, SeedSource: "policy.yaml", ReadOnly: readOnly})
		if err != nil {
			t.Fatal(err)
		}
		defer live.Close()
		if err := live.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// seedTable writes version 1 as inference or admin would have.
	seedTable := func(t *testing.T, setup *dynamostore.Store) {
		t.Helper()
		if err := setup.AddPolicyVersion(ctx, store.PolicyVersion{Version: 1, Time: time.Now(), Kind: store.PolicySeed, YAML: string(seed)}); err != nil {
			t.Fatal(err)
		}
	}
	// audit records an administrative action as AdminService does (a reservation without
	// limits, settled with its outcome).
	audit := func(t *testing.T, st *dynamostore.Store, id string) {
		t.Helper()
		tk, err := st.Reserve(ctx, store.Reservation{RequestID: id, User: "dana", Subject: "dana-sub", Procedure: "/portico.admin.v1.AdminService/UpdatePolicy", ModelID: "policy"})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Settle(ctx, tk, store.Outcome{Code: store.OutcomeOK, Detail: "version 2"}); err != nil {
			t.Fatal(err)
		}
	}
	// Each case runs the function's calls on st, which records them; setup writes what
	// another function would have (unrecorded).
	tests := []struct {
		name, fn string
		s        *synthesized
		run      func(t *testing.T, st, setup *dynamostore.Store)
	}{
		// A services process mounting neither inference nor admin opens the policy read-only
		// (services/cmd/portico-services, openPolicy): identity and apikey read an empty
		// table (the file serves), then a seeded one, with a changed file that they leave.
		{"identity reads the policy and counters", "identity", uat, func(t *testing.T, st, setup *dynamostore.Store) {
			openPolicy(t, st, seed, true)
			seedTable(t, setup)
			openPolicy(t, st, changed, true)
			if _, err := st.Counters(ctx, "alice", limits); err != nil {
				t.Fatal(err)
			}
		}},
		{"apikey reads the policy", "apikey", uat, func(t *testing.T, st, setup *dynamostore.Store) {
			openPolicy(t, st, seed, true)
			seedTable(t, setup)
			openPolicy(t, st, changed, true)
		}},
		{"authorizer reads an empty and a seeded table", "authorizer", uat, func(t *testing.T, st, setup *dynamostore.Store) {
			openPolicy(t, st, seed, true)
			seedTable(t, setup)
			openPolicy(t, st, seed, true)
		}},
		{"admin seeds and imports the file, edits the policy, audits, reads", "admin", uat, func(t *testing.T, st, setup *dynamostore.Store) {
			openPolicy(t, st, seed, false)
			openPolicy(t, st, changed, false)
			if err := st.AddPolicyVersion(ctx, store.PolicyVersion{Version: 3, Time: time.Now(), Kind: store.PolicyUpdate, Author: "dana", YAML: string(seed)}); err != nil {
				t.Fatal(err)
			}
			audit(t, st, "req-admin-1")
			if _, err := st.ListPolicyVersions(ctx, store.PolicyVersionFilter{PageSize: 10}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.ListAudit(ctx, store.AuditFilter{PageSize: 10}); err != nil {
				t.Fatal(err)
			}
			day := time.Now().UTC().Format(time.DateOnly)
			if _, err := st.ListUsage(ctx, store.UsageFilter{StartDay: day, EndDay: day}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.ListAlerts(ctx, store.AlertFilter{Now: time.Now(), PageSize: 10}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Counters(ctx, "alice", limits); err != nil {
				t.Fatal(err)
			}
		}},
		{"admin audits a refused edit in file mode", "admin", file, func(t *testing.T, st, setup *dynamostore.Store) {
			audit(t, st, "req-admin-2")
		}},
	}
	srv := dynalitetest.Start(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := srv.Table("portico-ledger")
			if err := dynamostore.EnsureTable(ctx, srv.Client, table); err != nil {
				t.Fatal(err)
			}
			rec := &recordingDB{db: srv.Client}
			tt.run(t, dynamostore.New(rec, table, store.Options{}), dynamostore.New(srv.Client, table, store.Options{}))
			_, stmts := tt.s.mainJSON.roleStatements(t, tt.s.mainJSON.function(t, tt.s.cfg.Name(tt.fn)))
			tableARN := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", tt.s.cfg.Region, tt.s.cfg.Account, tt.s.cfg.Name("ledger"))
			if len(rec.calls) == 0 {
				t.Fatal("no call recorded")
			}
			for _, c := range rec.calls {
				if !allowedBy(t, stmts, c, tableARN) {
					t.Errorf("%s may not %s %s (partition %q)", tt.fn, c.action, cmpOr(c.index, "the table"), c.pk)
				}
			}
		})
	}
}

// allowedBy reports whether one of the statements allows the call: its action, the table's
// (or the index's) ARN, and, if the statement has a condition, the call's partition key
// matching one of its dynamodb:LeadingKeys patterns (a Query under a condition is refused:
// the recorder does not know its partition).
func allowedBy(t *testing.T, stmts []statement, c ledgerCall, tableARN string) bool {
	t.Helper()
	resource := tableARN
	if c.index != "" {
		resource += "/index/" + c.index
	}
	for _, st := range stmts {
		if !slices.Contains(st.Actions, c.action) || !slices.Contains(strList(st.Resources), resource) {
			continue
		}
		if st.Condition == nil {
			return true
		}
		if c.action == "dynamodb:Query" {
			continue
		}
		if slices.ContainsFunc(leadingKeysOf(t, st), func(p string) bool { return likeMatch(p, c.pk) }) {
			return true
		}
	}
	return false
}

// likeMatch is IAM's StringLike: * matches any run of characters (slashes included), ? one.
func likeMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if likeMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && likeMatch(pattern[1:], s[1:])
	default:
		return s != "" && s[0] == pattern[0] && likeMatch(pattern[1:], s[1:])
	}
}

func cmpOr(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return "index " + a
	}
	return b
}

func TestLikeMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"POLICY", "POLICY", true},
		{"POLICY", "POLICY2", false},
		{"POLICY", "POLIC", false},
		{"CTR#*", "CTR#user/alice/tokens/day/2026-12-06", true},
		{"CTR#*", "CTR#", true},
		{"CTR#*", "REC#x", false},
		{"REC#*", "RSV#x", false},
		{"R?V#*", "RSV#x", true},
		{"*", "", true},
	}
	for _, tt := range tests {
		if got := likeMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("likeMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
