// Package admin is the portico.admin.v1.AdminService handler: usage administrators (people
// in the policy's usage-admin groups) read everyone's usage, summed over days and broken
// down by user, group, model and day (ListUsage), and the audit trail (ListAuditEvents).
//
// Wire it with
//
//	svc := admin.NewService(admin.Config{Policy: pol, Store: st, Catalog: cat, Logger: log})
//	path, h := adminv1connect.NewAdminServiceHandler(svc, srv.HandlerOptions()...)
//
// behind the authn middleware. Every method first requires the usage-admin grant
// (PERMISSION_DENIED otherwise, machine clients included), then validates its request
// (INVALID_ARGUMENT): ListUsage takes YYYY-MM-DD days at most 366 days apart and each
// dimension at most once; ListAuditEvents a page size from 1 to 500 (0 means 50), a start
// before its end, and only page tokens it issued for the same filter.
package admin
