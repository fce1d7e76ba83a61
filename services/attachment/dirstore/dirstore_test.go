package dirstore_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/portico-dev/portico/services/attachment"
	"github.com/portico-dev/portico/services/attachment/attachmenttest"
	"github.com/portico-dev/portico/services/attachment/dirstore"
)

// open opens a store in a fresh folder and returns it with the folder.
func open(t *testing.T) (*dirstore.Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "attachments")
	s, err := dirstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

// list returns every non-folder under dir, relative and slash-separated.
func list(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestContract(t *testing.T) {
	t.Parallel()
	attachmenttest.Run(t, func(t *testing.T) (attachment.Store, func() []string) {
		s, dir := open(t)
		return s, func() []string { return list(t, dir) }
	})
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	s, dir := open(t)
	k := attachment.Key{Owner: "alice", Conversation: "c1", Name: "a"}
	if err := s.Put(context.Background(), k, "image/png", []byte("x")); err != nil {
		t.Fatal(err)
	}
	owner, conv, name, _ := k.Segments()
	for p, want := range map[string]fs.FileMode{
		dir:                                   fs.ModeDir | 0o700,
		filepath.Join(dir, owner):             fs.ModeDir | 0o700,
		filepath.Join(dir, owner, conv):       fs.ModeDir | 0o700,
		filepath.Join(dir, owner, conv, name): 0o600,
	} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
		}
	}
}

// TestSymlinkEscapeRefused plants symbolic links inside the folder pointing out of it (as a
// local attacker with write access to it could): the store must neither write nor read nor
// delete through them.
func TestSymlinkEscapeRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := attachment.Key{Owner: "mallory", Conversation: "c1", Name: "a"}
	owner, conv, name, _ := k.Segments()
	tests := []struct {
		name string
		link string // the path, under the folder, made a link to outside
	}{
		{"owner folder", owner},
		{"conversation folder", filepath.Join(owner, conv)},
		{"attachment file", filepath.Join(owner, conv, name)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, dir := open(t)
			outside := t.TempDir()
			victim := filepath.Join(outside, "victim")
			if err := os.WriteFile(victim, []byte("image/png\nsecret"), 0o600); err != nil {
				t.Fatal(err)
			}
			target := outside
			if tt.link == filepath.Join(owner, conv, name) {
				target = victim
			} else if tt.link == filepath.Join(owner, conv) {
				if err := os.MkdirAll(filepath.Join(outside, name), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			linkPath := filepath.Join(dir, tt.link)
			if err := os.MkdirAll(filepath.Dir(linkPath), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, linkPath); err != nil {
				t.Fatal(err)
			}
			if obj, err := s.Get(ctx, k); err == nil {
				t.Errorf("Get through a link out of the folder read %q", obj.Data)
			}
			// A Put may replace a link to a file by the attachment (a rename replaces the
			// link, not its target), but never write through a link to a folder.
			if err := s.Put(ctx, k, "image/png", []byte("planted")); err == nil && tt.link != filepath.Join(owner, conv, name) {
				t.Error("Put through a link out of the folder succeeded")
			}
			_ = s.DeleteConversation(ctx, k.Owner, k.Conversation)
			got, err := os.ReadFile(victim)
			if err != nil || string(got) != "image/png\nsecret" {
				t.Errorf("the file outside the folder is now %q, %v", got, err)
			}
			entries, err := os.ReadDir(outside)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Name() != "victim" && e.Name() != name {
					t.Errorf("the store wrote %q outside its folder", e.Name())
				}
			}
		})
	}
}

func TestCorruptFileUnavailable(t *testing.T) {
	t.Parallel()
	s, dir := open(t)
	k := attachment.Key{Owner: "alice", Conversation: "c1", Name: "a"}
	owner, conv, name, _ := k.Segments()
	if err := os.MkdirAll(filepath.Join(dir, owner, conv), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, owner, conv, name), []byte("no content type line"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), k); !errors.Is(err, attachment.ErrUnavailable) {
		t.Errorf("Get of a corrupt file = %v, want ErrUnavailable", err)
	}
}

func TestFolderGoneUnavailable(t *testing.T) {
	t.Parallel()
	s, dir := open(t)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("a file where the folder was"), 0o600); err != nil {
		t.Fatal(err)
	}
	k := attachment.Key{Owner: "alice", Conversation: "c1", Name: "a"}
	if err := s.Put(context.Background(), k, "image/png", []byte("x")); !errors.Is(err, attachment.ErrUnavailable) {
		t.Errorf("Put = %v, want ErrUnavailable", err)
	}
	if _, err := s.Get(context.Background(), k); !errors.Is(err, attachment.ErrUnavailable) {
		t.Errorf("Get = %v, want ErrUnavailable", err)
	}
	if err := s.DeleteConversation(context.Background(), "alice", "c1"); !errors.Is(err, attachment.ErrUnavailable) {
		t.Errorf("DeleteConversation = %v, want ErrUnavailable", err)
	}
}
