// Package dirstore keeps attachments in a folder on this machine, the attachment store of
// `make dev` (PORTICO_ATTACHMENT_STORE=dir:<path>).
//
// An attachment lives at <root>/<owner>/<conversation>/<name>, the segments of
// [attachment.Key.Segments]: the owner as the base64url SHA-256 of the subject, the
// conversation id and name from a strict character set. Every file operation goes through an
// [os.Root] opened on the folder, so even a segment that slipped past validation could not
// name a file outside it. Folders are made 0700 and files 0600. A Put writes a temporary
// file (named with a leading '.', which no valid name has) and renames it over the
// attachment, so a reader sees the old bytes or the new, never a part.
//
// The file holds the content type on its first line, then the bytes.
package dirstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"

	"github.com/portico-dev/portico/services/attachment"
)

// Store is a folder of attachments. It is safe for concurrent use, by this process and by
// others sharing the folder.
type Store struct {
	dir string
}

var _ attachment.Store = (*Store)(nil)

// Open returns the store in dir, creating the folder (0700) if it does not exist.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("dirstore: empty folder")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dirstore: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Put stores data under key, replacing what was there.
func (s *Store) Put(ctx context.Context, key attachment.Key, contentType string, data []byte) error {
	owner, conv, name, err := key.Segments()
	if err != nil {
		return err
	}
	if err := attachment.CheckContentType(contentType); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	root, err := s.root()
	if err != nil {
		return err
	}
	defer root.Close()
	folder := path.Join(owner, conv)
	if err := root.MkdirAll(folder, 0o700); err != nil {
		return unavailable(err)
	}
	tmp, err := tempName()
	if err != nil {
		return unavailable(err)
	}
	tmp = path.Join(folder, tmp)
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return unavailable(err)
	}
	_, err = f.Write(append(append([]byte(contentType), '\n'), data...))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, path.Join(folder, name))
	}
	if err != nil {
		_ = root.Remove(tmp)
		return unavailable(err)
	}
	return nil
}

// Get returns the attachment under key, or an error matching attachment.ErrNotFound.
func (s *Store) Get(ctx context.Context, key attachment.Key) (attachment.Object, error) {
	owner, conv, name, err := key.Segments()
	if err != nil {
		return attachment.Object{}, err
	}
	if err := ctx.Err(); err != nil {
		return attachment.Object{}, err
	}
	root, err := s.root()
	if err != nil {
		return attachment.Object{}, err
	}
	defer root.Close()
	b, err := root.ReadFile(path.Join(owner, conv, name))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return attachment.Object{}, attachment.ErrNotFound
	case err != nil:
		return attachment.Object{}, unavailable(err)
	}
	ct, data, ok := bytes.Cut(b, []byte{'\n'})
	if !ok {
		return attachment.Object{}, unavailable(errors.New("no content type line"))
	}
	return attachment.Object{ContentType: string(ct), Data: data}, nil
}

// DeleteConversation deletes the folder of the owner's conversation, and the owner's folder
// when that leaves it empty.
func (s *Store) DeleteConversation(ctx context.Context, owner, conversation string) error {
	o, conv, err := attachment.ConversationSegments(owner, conversation)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	root, err := s.root()
	if err != nil {
		return err
	}
	defer root.Close()
	if err := root.RemoveAll(path.Join(o, conv)); err != nil {
		return unavailable(err)
	}
	_ = root.Remove(o) // fails while the owner has other conversations: fine
	return nil
}

// root opens the folder as an os.Root, which refuses any name that would leave it
// (through "..", an absolute path or a symbolic link).
func (s *Store) root() (*os.Root, error) {
	r, err := os.OpenRoot(s.dir)
	if err != nil {
		return nil, unavailable(err)
	}
	return r, nil
}

// tempName returns a fresh name for a file being written: ".tmp-" and 16 random hex digits.
func tempName() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return ".tmp-" + hex.EncodeToString(b[:]), nil
}

// unavailable wraps err with attachment.ErrUnavailable.
func unavailable(err error) error {
	return fmt.Errorf("%w: %w", attachment.ErrUnavailable, err)
}
