package admin

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	"github.com/portico-dev/portico/gen/go/portico/admin/v1/adminv1connect"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/conversation"
	"github.com/portico-dev/portico/services/livepolicy"
	"github.com/portico-dev/portico/services/metering"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/store"
)

// MaxRangeDays is the most days ListUsage's end_day may be after its start_day.
const MaxRangeDays = 366

// Config configures a Service.
type Config struct {
	// Policy returns the policy in force, which decides who is a usage or policy
	// administrator; called per request. Nil means Live's.
	Policy func() *policy.Policy
	// Live is the run-time policy that GetPolicy reads and the edits change; nil answers the
	// policy RPCs UNIMPLEMENTED.
	Live *livepolicy.Source
	// Alerts lists the threshold crossings for ListNearLimit; nil answers it UNIMPLEMENTED.
	Alerts store.AlertStore
	// Conversations is the conversation store ListConversationCounts counts; nil answers it
	// FAILED_PRECONDITION (a deployment whose admin service is not given the store).
	Conversations conversation.Store
	// Store holds the ledger and audit trail; required.
	Store store.Store
	// Catalog names the price table costs come from; required.
	Catalog *catalog.Catalog
	// Logger receives store failures; nil discards them.
	Logger *slog.Logger
}

// Service is the AdminService handler. It is safe for concurrent use.
type Service struct {
	policy        func() *policy.Policy
	live          *livepolicy.Source
	alerts        store.AlertStore
	store         store.Store
	conversations conversation.Store
	catalog       *catalog.Catalog
	log           *slog.Logger
	now           func() time.Time
}

var _ adminv1connect.AdminServiceHandler = (*Service)(nil)

// NewService returns an AdminService for cfg. Mount it with
// adminv1connect.NewAdminServiceHandler behind the authn middleware.
func NewService(cfg Config) *Service {
	s := &Service{policy: cfg.Policy, live: cfg.Live, alerts: cfg.Alerts, store: cfg.Store, conversations: cfg.Conversations, catalog: cfg.Catalog, log: cfg.Logger, now: time.Now}
	if s.policy == nil && s.live != nil {
		s.policy = s.live.Policy
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// ListUsage sums usage over a range of days, broken down by the requested dimensions.
func (s *Service) ListUsage(ctx context.Context, req *adminv1.ListUsageRequest) (*adminv1.ListUsageResponse, error) {
	if err := authn.RequireUsageAdmin(ctx, s.policy()); err != nil {
		return nil, err
	}
	f := store.UsageFilter{
		StartDay: req.GetStartDay(), EndDay: req.GetEndDay(), GroupBy: req.GetGroupBy(),
		User: req.GetUser(), Group: req.GetGroup(), ModelID: req.GetModelId(), Department: req.GetDepartment(),
	}
	if err := validateUsage(f); err != nil {
		return nil, err
	}
	rep, err := s.store.ListUsage(ctx, f)
	if err != nil {
		return nil, metering.StoreError(ctx, s.log, "list usage", err, metering.BlameCaller)
	}
	out := &adminv1.ListUsageResponse{Totals: rep.Totals.Proto(), PriceTableVersion: s.catalog.PriceTable().Version}
	for _, r := range rep.Rows {
		out.Rows = append(out.Rows, r.Proto())
	}
	return out, nil
}

func validateUsage(f store.UsageFilter) error {
	start, err := time.Parse(time.DateOnly, f.StartDay)
	if err != nil {
		return invalid("start_day %q is not a day as YYYY-MM-DD", f.StartDay)
	}
	end, err := time.Parse(time.DateOnly, f.EndDay)
	if err != nil {
		return invalid("end_day %q is not a day as YYYY-MM-DD", f.EndDay)
	}
	if end.Before(start) {
		return invalid("end_day %s is before start_day %s", f.EndDay, f.StartDay)
	}
	if days := int(end.Sub(start).Hours() / 24); days > MaxRangeDays {
		return invalid("end_day is %d days after start_day; at most %d are allowed", days, MaxRangeDays)
	}
	seen := map[adminv1.UsageDimension]bool{}
	for i, d := range f.GroupBy {
		if _, known := adminv1.UsageDimension_name[int32(d)]; !known || d == adminv1.UsageDimension_USAGE_DIMENSION_UNSPECIFIED {
			return invalid("group_by[%d] is not a usage dimension", i)
		}
		if seen[d] {
			return invalid("group_by[%d] repeats %s", i, d)
		}
		seen[d] = true
	}
	return nil
}

// ListAuditEvents returns audit records, newest first, a page at a time.
func (s *Service) ListAuditEvents(ctx context.Context, req *adminv1.ListAuditEventsRequest) (*adminv1.ListAuditEventsResponse, error) {
	if err := authn.RequireUsageAdmin(ctx, s.policy()); err != nil {
		return nil, err
	}
	if n := req.GetPageSize(); n < 0 || n > store.MaxPageSize {
		return nil, invalid("page_size %d is not from 1 to %d (0 means %d)", n, store.MaxPageSize, store.DefaultPageSize)
	}
	f := store.AuditFilter{
		User: req.GetUser(), ModelID: req.GetModelId(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
	}
	if ts := req.GetStartTime(); ts != nil {
		if err := ts.CheckValid(); err != nil {
			return nil, invalid("start_time is not a valid time")
		}
		f.Start = ts.AsTime()
	}
	if ts := req.GetEndTime(); ts != nil {
		if err := ts.CheckValid(); err != nil {
			return nil, invalid("end_time is not a valid time")
		}
		f.End = ts.AsTime()
	}
	if !f.Start.IsZero() && !f.End.IsZero() && !f.Start.Before(f.End) {
		return nil, invalid("start_time must be before end_time")
	}
	page, err := s.store.ListAudit(ctx, f)
	if err != nil {
		return nil, metering.StoreError(ctx, s.log, "list audit events", err, metering.BlameCaller)
	}
	out := &adminv1.ListAuditEventsResponse{NextPageToken: page.NextPageToken}
	for _, r := range page.Records {
		out.Events = append(out.Events, r.Proto())
	}
	return out, nil
}

func invalid(format string, args ...any) error {
	return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf(format, args...))
}
