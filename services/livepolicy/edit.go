package livepolicy

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/store"
)

// MaxPolicyBytes is the largest policy document an edit may save: far above any real policy,
// and well within a DynamoDB item (400 KB).
const MaxPolicyBytes = 256 << 10

// MaxCommentRunes is the longest comment an edit may carry.
const MaxCommentRunes = 500

// Edit is a change a policy admin asks for.
type Edit struct {
	// Base is the version the edit was made on; when another was saved since, the edit is
	// refused (store.ErrStaleVersion).
	Base int64
	// YAML is the new policy document.
	YAML []byte
	// Author and AuthorSubject are the policy admin's user name and token subject.
	Author, AuthorSubject string
	// Comment is the author's note for the history.
	Comment string
}

// Validate checks doc as an edit would: every problem, with its field path, including a
// policy that names no policy admin (it would lock everyone out). It returns the problems
// (none: doc may be saved) and, when there are none, what saving doc would change from the
// policy in force.
func (s *Source) Validate(doc []byte) (problems []policy.Problem, changes []string) {
	if problems = s.problems(doc); len(problems) > 0 {
		return problems, nil
	}
	return nil, policy.Changes([]byte(s.cur.Load().Version.YAML), doc)
}

// problems validates doc as an edit.
func (s *Source) problems(doc []byte) []policy.Problem {
	switch {
	case len(doc) > MaxPolicyBytes:
		return []policy.Problem{{Message: fmt.Sprintf("the policy is %d bytes; at most %d are allowed", len(doc), MaxPolicyBytes)}}
	case !utf8.Valid(doc):
		return []policy.Problem{{Message: "the policy is not UTF-8 text"}}
	}
	_, err := s.compile(doc, "edit", policy.RequirePolicyAdmin())
	var ve *policy.ValidationError
	if errors.As(err, &ve) {
		return ve.Problems
	}
	if err != nil {
		return []policy.Problem{{Message: err.Error()}}
	}
	return nil
}

// InvalidError lists the problems of an edit that was refused.
type InvalidError struct {
	// Problems are every problem found.
	Problems []policy.Problem
}

// Error summarises the problems.
func (e *InvalidError) Error() string {
	return fmt.Sprintf("the policy has %d problem(s), first: %s %s", len(e.Problems), e.Problems[0].Path, e.Problems[0].Message)
}

// Update saves e as the next version and applies it on this instance at once (every other
// instance applies it at its next check). Errors: ErrFileMode; *InvalidError for a policy
// with problems (nothing saved); an error matching store.ErrStaleVersion when e.Base is not
// the latest version; store errors.
func (s *Source) Update(ctx context.Context, e Edit) (store.PolicyVersion, error) {
	return s.save(ctx, e, store.PolicyUpdate, 0)
}

// Rollback saves the content of version target as the next version, under Update's rules
// (validated again: the catalog may have changed since).
func (s *Source) Rollback(ctx context.Context, target int64, e Edit) (store.PolicyVersion, error) {
	if s.cfg.Mode != ModeStore || s.cfg.ReadOnly {
		return store.PolicyVersion{}, ErrFileMode
	}
	v, err := s.cfg.Store.PolicyVersion(ctx, target)
	if err != nil {
		return store.PolicyVersion{}, err
	}
	e.YAML = []byte(v.YAML)
	return s.save(ctx, e, store.PolicyRollback, target)
}

func (s *Source) save(ctx context.Context, e Edit, kind string, restored int64) (store.PolicyVersion, error) {
	if s.cfg.Mode != ModeStore || s.cfg.ReadOnly {
		return store.PolicyVersion{}, ErrFileMode
	}
	if utf8.RuneCountInString(e.Comment) > MaxCommentRunes {
		return store.PolicyVersion{}, &InvalidError{Problems: []policy.Problem{{Message: fmt.Sprintf("the comment is longer than %d characters", MaxCommentRunes)}}}
	}
	if problems := s.problems(e.YAML); len(problems) > 0 {
		return store.PolicyVersion{}, &InvalidError{Problems: problems}
	}
	compiled, err := s.compile(e.YAML, fmt.Sprintf("version %d", e.Base+1))
	if err != nil {
		return store.PolicyVersion{}, &InvalidError{Problems: []policy.Problem{{Message: err.Error()}}}
	}
	s.write.Lock()
	defer s.write.Unlock()
	base := s.cur.Load().Version
	if base.Version != e.Base {
		// This instance may be behind: compare with the base as stored.
		if base, err = s.cfg.Store.PolicyVersion(ctx, e.Base); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return store.PolicyVersion{}, fmt.Errorf("base version %d: %w", e.Base, store.ErrStaleVersion)
			}
			return store.PolicyVersion{}, err
		}
	}
	v := store.PolicyVersion{
		Version: e.Base + 1, Time: s.now().UTC(), Author: e.Author, AuthorSubject: e.AuthorSubject,
		Kind: kind, Restored: restored, Comment: trimmed(e.Comment), Changes: policy.Changes([]byte(base.YAML), e.YAML),
		YAML: string(e.YAML),
	}
	if err := s.cfg.Store.AddPolicyVersion(ctx, v); err != nil {
		return store.PolicyVersion{}, err
	}
	s.swap(&Snapshot{Policy: compiled, Version: v})
	return v, nil
}

// Versions lists the version history, newest first.
func (s *Source) Versions(ctx context.Context, f store.PolicyVersionFilter) (store.PolicyVersionPage, error) {
	if s.cfg.Mode != ModeStore {
		return store.PolicyVersionPage{}, nil
	}
	return s.cfg.Store.ListPolicyVersions(ctx, f)
}
