package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/livepolicy"
	"github.com/portico-dev/portico/services/metering"
	"github.com/portico-dev/portico/services/platform/telemetry"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/store"
)

// AuditModel is the model_id of the audit records of policy changes and refused attempts.
const AuditModel = "policy"

// reader returns the caller if it may read the policy: a usage or a policy admin.
func (s *Service) reader(ctx context.Context) (*principal.Principal, error) {
	p, err := authn.Principal(ctx)
	if err != nil {
		return nil, err
	}
	if pol := s.policy(); !pol.IsUsageAdmin(p) && !pol.IsPolicyAdmin(p) {
		return nil, connect.NewError(connect.CodePermissionDenied, errors.New("reading the policy needs a usage-admin or policy-admin group"))
	}
	return p, nil
}

// editor returns the caller if it may change the policy: a policy admin. A refusal is
// recorded in the audit trail when audit is set.
func (s *Service) editor(ctx context.Context, audit string) (*principal.Principal, error) {
	p, err := authn.Principal(ctx)
	if err != nil {
		return nil, err
	}
	if !s.policy().IsPolicyAdmin(p) {
		ce := connect.NewError(connect.CodePermissionDenied, errors.New("changing the policy needs a policy-admin group (policyAdmins)"))
		if audit != "" {
			s.audit(ctx, p, ce, audit)
		}
		return nil, ce
	}
	return p, nil
}

func (s *Service) needLive() error {
	if s.live == nil {
		return connect.NewError(connect.CodeUnimplemented, errors.New("the policy is not served by this instance"))
	}
	return nil
}

// audit records a policy action in the audit trail (the ledger, with no usage): who, when,
// the outcome, and detail. It is best effort: a store failure is logged.
func (s *Service) audit(ctx context.Context, p *principal.Principal, outcome error, detail string) {
	s.auditAs(ctx, p, outcome, AuditModel, detail)
}

// auditAs records an administrative action in the audit trail under model (the audit
// record's model_id), as audit does.
func (s *Service) auditAs(ctx context.Context, p *principal.Principal, outcome error, model, detail string) {
	rid := telemetry.RequestIDFromContext(ctx)
	if rid == "" {
		rid = telemetry.NewRequestID()
	}
	var procedure, ua, ip string
	if ci, ok := connect.CallInfoForHandlerContext(ctx); ok {
		procedure, ua, ip = ci.Spec().Procedure, ci.RequestHeader().Get("User-Agent"), ci.Peer().Addr
	}
	o := store.Outcome{Code: store.OutcomeOK, Detail: truncate(detail, 4000)}
	if outcome != nil {
		o.Code, o.ErrorMessage = connect.CodeOf(outcome).String(), truncate(connectMessage(outcome), 500)
	}
	sctx := context.WithoutCancel(ctx)
	t, err := s.store.Reserve(sctx, store.Reservation{
		RequestID: rid, User: p.Account(), Subject: p.Subject, Groups: p.Groups, ClientID: p.ClientID,
		Procedure: procedure, ModelID: model, SourceIP: ip, UserAgent: truncate(ua, 512), Department: truncate(p.Department, 200),
	})
	if err == nil {
		err = s.store.Settle(sctx, t, o)
	}
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "could not record an administrative action in the audit trail", slog.String("request_id", rid),
			slog.String("outcome", o.Code), slog.Any("error", err))
	}
}

func connectMessage(err error) string {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Message()
	}
	return err.Error()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// GetPolicy returns the policy in force.
func (s *Service) GetPolicy(ctx context.Context, _ *adminv1.GetPolicyRequest) (*adminv1.GetPolicyResponse, error) {
	if err := s.needLive(); err != nil {
		return nil, err
	}
	p, err := s.reader(ctx)
	if err != nil {
		return nil, err
	}
	snap := s.live.Snapshot()
	structured, err := policyProto([]byte(snap.Version.YAML))
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "policy in force: structured view", slog.Any("error", err))
		return nil, connect.NewError(connect.CodeInternal, errors.New("could not read the policy"))
	}
	out := &adminv1.GetPolicyResponse{
		Version: versionProto(snap.Version), Policy: structured, Yaml: snap.Version.YAML,
		Mode: adminv1.PolicyMode_POLICY_MODE_STORE, Editable: snap.Policy.IsPolicyAdmin(p),
	}
	if s.live.Mode() == livepolicy.ModeFile {
		out.Mode, out.Editable = adminv1.PolicyMode_POLICY_MODE_FILE, false
	}
	return out, nil
}

// proposed returns the document a request proposes: its YAML as given, or its structured
// form rendered.
func proposed(yamlText string, structured *adminv1.Policy) ([]byte, error) {
	switch {
	case structured != nil:
		b, err := policyYAML(structured)
		if err != nil {
			return nil, connect.NewError(connect.CodeInvalidArgument, err)
		}
		return b, nil
	case yamlText != "":
		return []byte(yamlText), nil
	}
	return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("give the policy as yaml or policy"))
}

// ValidatePolicy checks a proposed policy without saving it.
func (s *Service) ValidatePolicy(ctx context.Context, req *adminv1.ValidatePolicyRequest) (*adminv1.ValidatePolicyResponse, error) {
	if err := s.needLive(); err != nil {
		return nil, err
	}
	if _, err := s.editor(ctx, ""); err != nil {
		return nil, err
	}
	doc, err := proposed(req.GetYaml(), req.GetPolicy())
	if err != nil {
		return nil, err
	}
	problems, changes := s.live.Validate(doc)
	return &adminv1.ValidatePolicyResponse{Problems: problemsProto(problems, req.GetPolicy() != nil), Changes: changes, Yaml: string(doc)}, nil
}

// UpdatePolicy saves a new version.
func (s *Service) UpdatePolicy(ctx context.Context, req *adminv1.UpdatePolicyRequest) (*adminv1.UpdatePolicyResponse, error) {
	if err := s.needLive(); err != nil {
		return nil, err
	}
	p, err := s.editor(ctx, fmt.Sprintf("refused: update of the policy based on version %d", req.GetBaseVersion()))
	if err != nil {
		return nil, err
	}
	doc, err := proposed(req.GetYaml(), req.GetPolicy())
	if err != nil {
		return nil, err
	}
	v, err := s.live.Update(ctx, livepolicy.Edit{Base: req.GetBaseVersion(), YAML: doc, Author: p.Account(),
		AuthorSubject: p.Subject, Comment: req.GetComment()})
	if err != nil {
		return nil, s.editError(ctx, p, err, fmt.Sprintf("update based on version %d", req.GetBaseVersion()), req.GetPolicy() != nil)
	}
	s.audit(ctx, p, nil, changeDetail(v))
	return &adminv1.UpdatePolicyResponse{Version: versionProto(v)}, nil
}

// RollbackPolicy saves an earlier version's content as a new version.
func (s *Service) RollbackPolicy(ctx context.Context, req *adminv1.RollbackPolicyRequest) (*adminv1.RollbackPolicyResponse, error) {
	if err := s.needLive(); err != nil {
		return nil, err
	}
	p, err := s.editor(ctx, fmt.Sprintf("refused: rollback of the policy to version %d", req.GetVersion()))
	if err != nil {
		return nil, err
	}
	if req.GetVersion() < 1 {
		return nil, invalid("version %d is not a policy version", req.GetVersion())
	}
	v, err := s.live.Rollback(ctx, req.GetVersion(), livepolicy.Edit{Base: req.GetBaseVersion(), Author: p.Account(),
		AuthorSubject: p.Subject, Comment: req.GetComment()})
	if err != nil {
		return nil, s.editError(ctx, p, err, fmt.Sprintf("rollback to version %d based on version %d", req.GetVersion(), req.GetBaseVersion()), false)
	}
	s.audit(ctx, p, nil, changeDetail(v))
	return &adminv1.RollbackPolicyResponse{Version: versionProto(v)}, nil
}

// editError maps an edit's error to its Connect error; refusals are audited.
// structured says the policy was given in the structured form: its problems' lines and
// columns, which point into the rendered YAML, are left out.
func (s *Service) editError(ctx context.Context, p *principal.Principal, err error, what string, structured bool) error {
	var ie *livepolicy.InvalidError
	var ce *connect.Error
	switch {
	case errors.As(err, &ie):
		ce = connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("the policy has %d problem(s); nothing was saved", len(ie.Problems)))
		if d, derr := connect.NewErrorDetail(&adminv1.PolicyInvalid{Problems: problemsProto(ie.Problems, structured)}); derr == nil {
			ce.AddDetail(d)
		}
	case errors.Is(err, store.ErrStaleVersion):
		ce = connect.NewError(connect.CodeFailedPrecondition, errors.New("the policy was changed since your edit's base version; reload it and edit again"))
	case errors.Is(err, livepolicy.ErrFileMode):
		ce = connect.NewError(connect.CodeFailedPrecondition, livepolicy.ErrFileMode)
	case errors.Is(err, store.ErrNotFound):
		ce = connect.NewError(connect.CodeNotFound, errors.New("no such policy version"))
	default:
		return metering.StoreError(ctx, s.log, "save the policy", err, metering.BlameHandler)
	}
	s.audit(ctx, p, ce, "refused: "+what)
	return ce
}

// changeDetail is the audit detail of a saved version.
func changeDetail(v store.PolicyVersion) string {
	head := fmt.Sprintf("policy version %d", v.Version)
	if v.Kind == store.PolicyRollback {
		head += fmt.Sprintf(" (rollback to version %d)", v.Restored)
	}
	return head + ": " + strings.Join(v.Changes, "; ")
}

// ListPolicyVersions returns the version history, newest first.
func (s *Service) ListPolicyVersions(ctx context.Context, req *adminv1.ListPolicyVersionsRequest) (*adminv1.ListPolicyVersionsResponse, error) {
	if err := s.needLive(); err != nil {
		return nil, err
	}
	if _, err := s.reader(ctx); err != nil {
		return nil, err
	}
	if n := req.GetPageSize(); n < 0 || n > store.MaxPageSize {
		return nil, invalid("page_size %d is not from 1 to %d (0 means %d)", n, store.MaxPageSize, store.DefaultPageSize)
	}
	page, err := s.live.Versions(ctx, store.PolicyVersionFilter{PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, metering.StoreError(ctx, s.log, "list policy versions", err, metering.BlameCaller)
	}
	out := &adminv1.ListPolicyVersionsResponse{NextPageToken: page.NextPageToken}
	for _, v := range page.Versions {
		out.Versions = append(out.Versions, versionProto(v))
	}
	return out, nil
}

func versionProto(v store.PolicyVersion) *adminv1.PolicyVersion {
	out := &adminv1.PolicyVersion{
		Version: v.Version, Author: v.Author, AuthorSubject: v.AuthorSubject, RestoredVersion: v.Restored,
		Comment: v.Comment, Changes: v.Changes,
	}
	if !v.Time.IsZero() {
		out.CreateTime = timestamppb.New(v.Time)
	}
	switch v.Kind {
	case store.PolicySeed:
		out.Kind = adminv1.PolicyChangeKind_POLICY_CHANGE_KIND_SEED
	case store.PolicyUpdate:
		out.Kind = adminv1.PolicyChangeKind_POLICY_CHANGE_KIND_UPDATE
	case store.PolicyRollback:
		out.Kind = adminv1.PolicyChangeKind_POLICY_CHANGE_KIND_ROLLBACK
	}
	return out
}

// problemsProto returns problems in the API's form; for a structured policy without their
// positions in the YAML it was rendered to.
func problemsProto(ps []policy.Problem, structured bool) []*adminv1.PolicyProblem {
	out := make([]*adminv1.PolicyProblem, len(ps))
	for i, p := range ps {
		out[i] = &adminv1.PolicyProblem{Path: p.Path, Message: p.Message}
		if !structured {
			out[i].Line, out[i].Column = int32(min(p.Line, 1<<31-1)), int32(min(p.Column, 1<<31-1)) //nolint:gosec // G115: clamped
		}
	}
	return out
}

// ListNearLimit lists the threshold crossings of the current windows, one per limit (its
// highest threshold), a page at a time in the store's listing order (store.CompareAlerts).
func (s *Service) ListNearLimit(ctx context.Context, req *adminv1.ListNearLimitRequest) (*adminv1.ListNearLimitResponse, error) {
	if s.alerts == nil {
		return nil, connect.NewError(connect.CodeUnimplemented, errors.New("alerts are not served by this instance"))
	}
	if _, err := s.reader(ctx); err != nil {
		return nil, err
	}
	if n := req.GetPageSize(); n < 0 || n > store.MaxPageSize {
		return nil, invalid("page_size %d is not from 1 to %d (0 means %d)", n, store.MaxPageSize, store.DefaultPageSize)
	}
	page, err := s.alerts.ListAlerts(ctx, store.AlertFilter{Now: s.now(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()})
	if errors.Is(err, store.ErrInvalid) {
		return nil, invalid("page_token is not one ListNearLimit made")
	}
	if err != nil {
		return nil, metering.StoreError(ctx, s.log, "list alerts", err, metering.BlameHandler)
	}
	out := &adminv1.ListNearLimitResponse{NextPageToken: page.NextPageToken}
	for _, m := range page.Marks {
		e := &adminv1.NearLimit{Alert: m.Status().AlertProto(m.Threshold), CrossedAt: timestamppb.New(m.Time), Department: m.Department}
		if m.Limit.Subject != typev1.QuotaSubject_QUOTA_SUBJECT_GROUP {
			e.User = m.User
		}
		out.Entries = append(out.Entries, e)
	}
	return out, nil
}
