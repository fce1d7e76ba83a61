// Package livepolicy keeps the policy in force on every instance while policy admins change it
// at run time.
//
// The policy is versioned data in the store (store.PolicyStore): versions 1, 2, 3, ... each
// with its YAML text, author, time, comment and a summary of what it changed. The policy file
// (PORTICO_POLICY_FILE, or the embedded development policy) seeds an empty store as version 1,
// and is imported again at start-up as a new version while the store holds only imports (no
// edit was made in the app) and the file changed: a redeploy with a new file applies it. Once
// a policy admin has edited the policy, the store is the policy and a differing file is only
// logged. In ModeFile
// (PORTICO_POLICY_MODE=file) the file is the policy and nothing edits it at run time; teams
// that keep their policy in git use it.
//
// # Applying a new version everywhere
//
// A [Source] holds the compiled policy in an atomic pointer. Handlers take its getter,
// [Source.Policy] (a func() *policy.Policy), and call it per decision: a decision sees one
// whole policy, old or new, never half of one. Every refresh interval (PORTICO_POLICY_REFRESH,
// default 5 s) a version check reads the latest version number (one small read: a DynamoDB
// GetItem, a SQLite max()); only when it changed is the version read, compiled and swapped
// in. Checks never run on a request's path: standalone, [Source.Run] checks on a timer; and
// whenever a check is due, the getter starts one in the background (one at a time) and
// returns the policy it has without waiting. On Lambda, where nothing runs between
// invocations, the latter keeps an instance current: its first request after a quiet spell is
// decided under the policy it had, and the check it starts applies the new version for the
// next. With the default interval a standalone instance applies a new version within about
// 5 s of its writing (and the instance that wrote it at once); a Lambda instance that served
// a request in the last 5 s does too, and an idle one from its second request on.
//
// A version that does not compile on an instance (its catalog lost a model the version
// names) is logged and skipped there until a newer version is written; the instance keeps
// the policy it had. At start-up ([Open]) the latest version must compile, as a file must.
//
// # Editing
//
// [Source.Update] and [Source.Rollback] validate the new policy under the catalog, refusing a
// policy that names no policy admin (it would lock everyone out) along with every other
// problem ([InvalidError], each problem with its field path), then write version base+1 with
// a conditional write: an edit based on a version that is no longer the latest is refused
// (store.ErrStaleVersion) and nothing changes. Who may edit is the handlers' decision (the
// policy's policyAdmins).
package livepolicy
