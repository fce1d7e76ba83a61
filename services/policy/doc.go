// Package policy decides what each verified caller may use: which Bedrock models and SageMaker
// endpoints, under which Bedrock guardrail, within which quotas, and whether it may read
// everyone's usage.
//
// A policy is a YAML file (see dev.yaml, the embedded default used in development) that maps
// Cognito groups (people) and OAuth scopes (machine clients) to grants. With Entra ID as the
// token issuer, groupIds maps the group object ids Entra sends to those group names. It is validated when
// loaded, and every problem is reported with its line and column: YAML errors, a second YAML
// document (the decoder would ignore it), unknown keys, missing or duplicate group names,
// group names and scopes with white space (they could never match), limits that are not
// positive or absurd (more than MaxTokenLimit tokens, MaxRequestsPerMinute requests,
// MaxAmountUnits of money), a daily limit or budget above the monthly one, budgets that are
// not decimal amounts with at most six decimals (ParseAmount), usage-admin and policy-admin
// groups the file does not define,
// groupIds keys that are not GUIDs or map to groups the file does not define,
// and — when the catalog's ids are given with WithModelIDs and WithEndpointNames — models and
// endpoints the catalog does not know. Each Problem has its line and column and its field
// path ("groups[1].quotas.userTokensPerDay"). With RequirePolicyAdmin (an edit made at run
// time, package livepolicy) a policy whose policyAdmins names no group is refused too: it
// would lock every policy admin out.
//
// # Decisions
//
// People are entitled through their groups only, machine clients through their scopes only
// (a person's token scopes and a machine token's groups grant nothing). A group or scope the
// policy does not name grants nothing: unknown groups are denied by default. Members of a
// usageAdmins group (default: Administrators) may read everyone's usage; members of a
// policyAdmins group (default: none) may edit the policy at run time.
//
// # Budgets
//
// userCostPerDay, userCostPerMonth, groupCostPerDay and groupCostPerMonth limit the
// estimated cost, in the price table's currency, as quotas of unit QUOTA_UNIT_COST counted in
// nanos. They combine like token limits: per-user budgets are the most generous among the
// caller's granting groups, group budgets are pools charged to every granting group that has
// one.
//
// # Several groups
//
// When more than one of a caller's groups grants a model, the caller's per-user limits for
// that model are the most generous among those groups, window by window (a group with no
// limit in a window makes the window unlimited). Adding someone to a group should never take
// rights away, and a group's per-user limits say what its administrators judged enough for
// one person using its models.
//
// Group pools work the other way: a request for a model is charged to the pools (tokens per
// month, cost per day and month) of every group that grants the model and has a pool
// (ChargeGroups), and must fit each of them.
// Pools exist to cap what a group costs; if a request were charged to only one pool, a member
// of two groups could spend one group's models on the other's budget, and which pool paid
// would depend on an arbitrary choice. Charging all of them keeps each cap an upper bound on
// what its members spend on its models.
//
// A model's guardrail is the one the top-level guardrails list names for the model; failing
// that, the guardrail of the first granting group (in file order) that declares one. A
// guardrail is a safety control, so a model granted by several groups gets one whenever any
// of them asks for it.
package policy
