package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// apply returns the mutated contents of each file the mutation edits in the tree at root,
// or an error naming every edit whose text is not found exactly once.
func (m mutation) apply(root string) (map[string][]byte, error) {
	files := map[string][]byte{}
	var errs []error
	for _, e := range m.edits {
		src, ok := files[e.file]
		if !ok {
			b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(e.file)))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", m.name, err))
				continue
			}
			src = b
		}
		out, err := replaceOnce(src, e.old, e.new)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", m.name, e.file, err))
			continue
		}
		files[e.file] = out
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return files, nil
}

// replaceOnce replaces old, which must occur exactly once in src, with new.
func replaceOnce(src []byte, old, new string) ([]byte, error) {
	switch n := bytes.Count(src, []byte(old)); n {
	case 1:
		return bytes.Replace(src, []byte(old), []byte(new), 1), nil
	case 0:
		return nil, fmt.Errorf("%q not found", old)
	default:
		return nil, fmt.Errorf("%q found %d times, want once", old, n)
	}
}
