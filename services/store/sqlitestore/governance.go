package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/portico-dev/portico/services/store"
)

var _ store.Governance = (*Store)(nil)

// The policy versions and alert marks are rare writes (an edit, a threshold crossed): they
// run on the pool, each atomic in SQLite (a single statement, or for an alert mark one
// IMMEDIATE transaction), rather than on the request path's writer.

// read runs fn with the store open for reading.
func (s *Store) read(op string, fn func() error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.ready(op); err != nil {
		return err
	}
	return store.Unavailable(op, fn())
}

// LatestPolicyVersion returns the highest version number, 0 when there is none. See
// store.PolicyStore.
func (s *Store) LatestPolicyVersion(ctx context.Context) (int64, error) {
	var n int64
	err := s.read("latest policy version", func() error {
		return s.db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM policy_versions`).Scan(&n)
	})
	return n, err
}

const policyColumns = `version, time_ns, author, author_subject, kind, restored_version, comment, changes, yaml`

func scanPolicyVersion(sc interface{ Scan(...any) error }) (store.PolicyVersion, error) {
	var v store.PolicyVersion
	var tns int64
	var changes string
	if err := sc.Scan(&v.Version, &tns, &v.Author, &v.AuthorSubject, &v.Kind, &v.Restored, &v.Comment, &changes, &v.YAML); err != nil {
		return v, err
	}
	v.Time = time.Unix(0, tns).UTC()
	if err := json.Unmarshal([]byte(changes), &v.Changes); err != nil {
		return v, fmt.Errorf("policy version %d: changes: %w", v.Version, err)
	}
	if len(v.Changes) == 0 {
		v.Changes = nil
	}
	return v, nil
}

// PolicyVersion returns one version. See store.PolicyStore.
func (s *Store) PolicyVersion(ctx context.Context, version int64) (store.PolicyVersion, error) {
	var v store.PolicyVersion
	err := s.read("policy version", func() error {
		var err error
		v, err = scanPolicyVersion(s.db.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM policy_versions WHERE version = ?`, version))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("policy version %d: %w", version, store.ErrNotFound)
	}
	return v, err
}

// AddPolicyVersion writes v if it is the latest plus one. See store.PolicyStore.
func (s *Store) AddPolicyVersion(ctx context.Context, v store.PolicyVersion) error {
	if v.Version < 1 {
		return store.Invalid("policy version %d", v.Version)
	}
	changes, _ := json.Marshal(v.Changes)
	if v.Changes == nil {
		changes = []byte("[]")
	}
	var n int64
	err := s.read("add policy version", func() error {
		// One statement: the check and the insert happen under one write lock. The primary
		// key refuses a second writer of the same number in any case.
		res, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO policy_versions (`+policyColumns+`)
			SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE (SELECT coalesce(max(version), 0) FROM policy_versions) = ?`,
			v.Version, v.Time.UnixNano(), v.Author, v.AuthorSubject, v.Kind, v.Restored, v.Comment, string(changes), v.YAML,
			v.Version-1)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("policy version %d: %w", v.Version, store.ErrStaleVersion)
	}
	return nil
}

type versionToken struct {
	V int64 `json:"v"`
}

// ListPolicyVersions returns versions newest first. See store.PolicyStore.
func (s *Store) ListPolicyVersions(ctx context.Context, f store.PolicyVersionFilter) (store.PolicyVersionPage, error) {
	size, err := store.AuditFilter{PageSize: f.PageSize}.Size()
	if err != nil {
		return store.PolicyVersionPage{}, err
	}
	before := int64(1<<63 - 1)
	if f.PageToken != "" {
		var tok versionToken
		if err := store.DecodePageToken(f.PageToken, &tok); err != nil {
			return store.PolicyVersionPage{}, err
		}
		before = tok.V
	}
	var page store.PolicyVersionPage
	err = s.read("list policy versions", func() error {
		rows, err := s.db.QueryContext(ctx, `SELECT `+policyColumns+` FROM policy_versions WHERE version < ?
			ORDER BY version DESC LIMIT ?`, before, size+1)
		if err != nil {
			return err
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			v, err := scanPolicyVersion(rows)
			if err != nil {
				return err
			}
			page.Versions = append(page.Versions, v)
		}
		return rows.Err()
	})
	if err != nil {
		return store.PolicyVersionPage{}, err
	}
	if len(page.Versions) > size {
		page.Versions = page.Versions[:size]
		page.NextPageToken = store.EncodePageToken(versionToken{V: page.Versions[size-1].Version})
	}
	return page, nil
}

// MarkAlert records m once per (key, threshold), in one transaction with the listing's
// bookkeeping: a mark is inserted superseded when its counter has a higher threshold
// marked, and supersedes the lower ones otherwise. See store.AlertStore.
func (s *Store) MarkAlert(ctx context.Context, m store.AlertMark) (bool, error) {
	if err := m.Validate(); err != nil {
		return false, err
	}
	limit, _ := json.Marshal(m.Limit)
	var n int64
	err := s.read("mark alert", func() error {
		tx, err := s.db.BeginTx(ctx, nil) // IMMEDIATE (see Open): the write lock first
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO alert_marks (counter_key, threshold, user, department,
			limit_json, used, reserved, resets_at, time_ns, list_key, superseded)
			SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
				EXISTS (SELECT 1 FROM alert_marks WHERE counter_key = ? AND threshold > ?)`,
			m.Key, m.Threshold, m.User, m.Department, string(limit), m.Used, m.Reserved, m.ResetsAt.UnixNano(), m.Time.UnixNano(),
			m.ListKey(), m.Key, m.Threshold)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE alert_marks SET superseded = 1 WHERE counter_key = ? AND threshold < ?`,
			m.Key, m.Threshold); err != nil {
			return err
		}
		// Marks are written rarely (a threshold crossed): each new one clears the marks of
		// windows that ended more than CounterRetention ago, as counters are.
		if _, err := tx.ExecContext(ctx, `DELETE FROM alert_marks WHERE resets_at < ?`, s.opts.Now().Add(-CounterRetention).UnixNano()); err != nil {
			return err
		}
		return tx.Commit()
	})
	return n == 1 && err == nil, err
}

// ListAlerts reads, for each current window, up to a page and one of the marks after the
// page token that no higher threshold supersedes: one range of the alert_marks_listed
// index each (migration 0009). See store.AlertStore.
func (s *Store) ListAlerts(ctx context.Context, f store.AlertFilter) (store.AlertPage, error) {
	size, after, err := f.Page()
	if err != nil {
		return store.AlertPage{}, err
	}
	var runs [][]store.AlertMark
	err = s.read("list alerts", func() error {
		for _, end := range store.AlertWindowEnds(f.Now) {
			run, err := s.alertRun(ctx, end, after, size+1)
			if err != nil {
				return err
			}
			runs = append(runs, run)
		}
		return nil
	})
	if err != nil {
		return store.AlertPage{}, err
	}
	return store.MergeAlertPages(size, runs...), nil
}

// alertListQuery reads one window's listed marks after a list key.
const alertListQuery = `SELECT counter_key, threshold, user, department, limit_json, used, reserved, resets_at, time_ns
	FROM alert_marks WHERE resets_at = ? AND superseded = 0 AND list_key > ? ORDER BY list_key LIMIT ?`

// alertRun returns up to n listed marks of the window ending at end, after the list key
// after.
func (s *Store) alertRun(ctx context.Context, end time.Time, after string, n int) ([]store.AlertMark, error) {
	rows, err := s.db.QueryContext(ctx, alertListQuery, end.UnixNano(), after, n)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []store.AlertMark
	for rows.Next() {
		var m store.AlertMark
		var limit string
		var resets, tns int64
		if err := rows.Scan(&m.Key, &m.Threshold, &m.User, &m.Department, &limit, &m.Used, &m.Reserved, &resets, &tns); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(limit), &m.Limit); err != nil {
			return nil, fmt.Errorf("alert %s: %w", m.Key, err)
		}
		m.ResetsAt, m.Time = time.Unix(0, resets).UTC(), time.Unix(0, tns).UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// Counters reads the counters of user's limits. See store.CounterReader.
func (s *Store) Counters(ctx context.Context, user string, limits []store.Limit) ([]store.QuotaStatus, error) {
	now := s.opts.Now().UTC()
	out := make([]store.QuotaStatus, len(limits))
	for _, l := range limits {
		if err := l.Validate(); err != nil {
			return nil, err
		}
	}
	err := s.read("counters", func() error {
		for i, l := range limits {
			key, resets := store.CounterKey(user, l, now)
			q := store.QuotaStatus{Limit: l, ResetsAt: resets}
			var err error
			if q.Used, q.Reserved, err = s.readCounter(ctx, key); err != nil {
				return err
			}
			if err := store.CheckCounter(key, q.Used, q.Reserved); err != nil {
				return err
			}
			out[i] = q
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
