// Package admin is the portico.admin.v1.AdminService handler: usage administrators (people
// in the policy's usage-admin groups) read everyone's usage, summed over days and broken
// down by user, group, model, day and department (ListUsage), and the audit trail
// (ListAuditEvents); policy administrators (the policy's policyAdmins) govern the policy at
// run time.
//
// Wire it with
//
//	svc := admin.NewService(admin.Config{Live: live, Alerts: st, Store: st, Catalog: cat, Logger: log})
//	path, h := adminv1connect.NewAdminServiceHandler(svc, srv.HandlerOptions()...)
//
// behind the authn middleware. Every method first checks the caller (PERMISSION_DENIED
// otherwise, machine clients included), then validates its request (INVALID_ARGUMENT).
// ListUsage and ListAuditEvents need the usage-admin grant: ListUsage takes YYYY-MM-DD days at
// most 366 days apart and each dimension at most once; ListAuditEvents a page size from 1 to
// 500 (0 means 50), a start before its end, and only page tokens it issued for the same
// filter.
//
// # Conversation counts
//
// ListConversationCounts (usage-admin grant; a refusal is an audit record with model_id
// "conversations") pages through what the conversation store keeps per person: the subject
// and the number of conversations, messages and bytes, with the totals of the pages read so
// far (over everyone on the last page; the page token carries them), and the user name the
// person last created a conversation with, when the store has it. It never returns a
// title, an id or content: only the owner reads, changes or finds a conversation. Without a
// conversation store (Config.Conversations nil: in AWS the admin function is not given the
// conversation table) it answers FAILED_PRECONDITION.
//
// # The policy
//
// GetPolicy, ListPolicyVersions and ListNearLimit need the usage-admin or the policy-admin
// grant; ValidatePolicy, UpdatePolicy and RollbackPolicy the policy-admin grant. The policy is
// the run-time policy of package livepolicy, given as YAML (kept as written, comments and
// all) or in the structured form (the YAML schema field for field, rendered to YAML).
// ValidatePolicy is a dry run: every problem with its field path (such as
// `groups[1].quotas.userTokensPerDay`) and what saving would change. UpdatePolicy and
// RollbackPolicy answer INVALID_ARGUMENT with a PolicyInvalid detail listing every problem,
// FAILED_PRECONDITION for a stale base version or a policy managed by file, and change
// nothing then. Every saved version and every refused attempt (a non-admin's included) is an
// audit record: procedure, model_id "policy", outcome, and in detail the version and its
// summary of changes. ListNearLimit lists the threshold crossings (package alert) of the
// current day and month windows, one per limit at its highest threshold, with the limit's
// state when it was crossed.
package admin
