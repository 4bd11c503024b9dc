package kv

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sync"
)

// MapStore is a Store in process memory, for tests and development.
type MapStore struct {
	mu sync.Mutex
	m  map[string]string
}

var _ Store = (*MapStore)(nil)

// NewMapStore returns an empty MapStore.
func NewMapStore() *MapStore { return &MapStore{m: make(map[string]string)} }

// Get returns the value of key.
func (s *MapStore) Get(ctx context.Context, key string) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v, ok, nil
}

// Put sets key to value.
func (s *MapStore) Put(ctx context.Context, key, value string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.m[key] = value
	s.mu.Unlock()
	return nil
}

// Del removes key; a missing key is not an error.
func (s *MapStore) Del(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
	return nil
}

// Snapshot returns a copy of every key and value.
func (s *MapStore) Snapshot() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.m)
}

// DirStore is a durable Store in a directory, one file per key, for
// single-process development and for tests that kill a process. A Put
// writes a temporary file and renames it over the old one, so a crash
// leaves the old value or the new one, never a mix; with Sync (the default
// from NewDirStore) the file and the directory are also flushed to disk, so
// a completed Put survives a power loss.
type DirStore struct {
	dir  string
	sync bool
}

var _ Store = (*DirStore)(nil)

// maxKeyLen keeps file names (base64 of the key plus a prefix) within the
// 255 bytes most file systems allow.
const maxKeyLen = 180

// NewDirStore opens (creating it if needed) a store in dir.
func NewDirStore(dir string) (*DirStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("backend/kv: %w", err)
	}
	return &DirStore{dir: dir, sync: true}, nil
}

// WithoutSync returns a view of the store that skips fsync: a completed Put
// survives the death of the process but maybe not a power loss. For tests.
func (s *DirStore) WithoutSync() *DirStore { return &DirStore{dir: s.dir} }

func (s *DirStore) path(key string) (string, error) {
	if len(key) > maxKeyLen {
		return "", fmt.Errorf("backend/kv: key of %d bytes is longer than DirStore allows (%d)", len(key), maxKeyLen)
	}
	return filepath.Join(s.dir, "k-"+base64.RawURLEncoding.EncodeToString([]byte(key))), nil
}

// Get returns the value of key.
func (s *DirStore) Get(ctx context.Context, key string) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	p, err := s.path(key)
	if err != nil {
		return "", false, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("backend/kv: %w", err)
	}
	return string(b), true, nil
}

// Put sets key to value, atomically.
func (s *DirStore) Put(ctx context.Context, key, value string) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := s.path(key)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("backend/kv: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	if _, err = f.WriteString(value); err == nil && s.sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err == nil && s.sync {
		err = s.syncDir()
	}
	if err != nil {
		return fmt.Errorf("backend/kv: put %q: %w", key, err)
	}
	return nil
}

// Del removes key; a missing key is not an error.
func (s *DirStore) Del(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backend/kv: del %q: %w", key, err)
	}
	if s.sync {
		if err := s.syncDir(); err != nil {
			return fmt.Errorf("backend/kv: del %q: %w", key, err)
		}
	}
	return nil
}

func (s *DirStore) syncDir() error {
	d, err := os.Open(s.dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
