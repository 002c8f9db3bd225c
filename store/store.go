package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

var (
	// ErrNotFound is returned when a record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrExists is returned when creating a record that already exists.
	ErrExists = errors.New("store: already exists")
	// ErrClosed is returned by every call after Close.
	ErrClosed = errors.New("store: closed")
	// ErrSchema is returned by Open for a database of an unknown schema version.
	ErrSchema = errors.New("store: unsupported schema version")
	// ErrCorrupt is returned when a stored record cannot be decoded.
	ErrCorrupt = errors.New("store: corrupt record")
)

// Config configures a Store.
type Config struct {
	// Dir is the Pebble directory; it is created if missing. Required.
	Dir string
	// FS is the file system; nil means the operating system's. Tests may pass
	// vfs.NewMem() for a store that lives only in memory.
	FS vfs.FS
	// CacheSize is Pebble's block cache in bytes. Zero means
	// DefaultCacheSize.
	CacheSize int64
	// Logger receives Pebble's own log lines; nil means slog.Default().
	Logger *slog.Logger
	// StatusListSize is the number of entries of each new status list: a
	// multiple of 8 from MinStatusListSize to MaxStatusListSize. Zero means
	// DefaultStatusListSize. Lists already opened keep the size they were
	// opened with.
	StatusListSize uint64
}

// DefaultCacheSize keeps the index and filter blocks and the hot records of
// a node with millions of credentials in memory: every submission looks a
// digest up before writing it, and every query reads one.
const DefaultCacheSize = 128 << 20

// Store is a node's Pebble database. It is safe for concurrent use.
type Store struct {
	db *pebble.DB
	// mu serialises read-modify-write updates of batch records so that the
	// state index never disagrees with the record.
	mu sync.Mutex

	queue    queue
	stripeMu [stripes]sync.Mutex

	// statusSize is the size of new status lists (Config.StatusListSize).
	statusSize uint64
	// alloc hands out status list indexes; statusMu serialises changes of
	// status bits and versions, which rewrite a list's record.
	alloc    statusAlloc
	statusMu sync.Mutex
	// pathwayMu makes PutPathway's check and write one step.
	pathwayMu sync.Mutex

	// stats accumulates stats counts until FlushStats (stats.go).
	stats statsAcc
}

// Open opens or creates the store in cfg.Dir.
func Open(cfg Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, errors.New("store: Config.Dir is required")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	cacheSize := cfg.CacheSize
	if cacheSize == 0 {
		cacheSize = DefaultCacheSize
	}
	statusSize := cfg.StatusListSize
	if statusSize == 0 {
		statusSize = DefaultStatusListSize
	}
	if err := checkStatusListSize(statusSize); err != nil {
		return nil, fmt.Errorf("store: Config.StatusListSize: %w", err)
	}
	opts := &pebble.Options{
		FS:        cfg.FS,
		CacheSize: cacheSize,
		Logger:    pebbleLogger{logger.With("component", "pebble")},
	}
	// Bloom filters answer most lookups of digests that are not stored (every
	// new submission) without reading a data block.
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(cfg.Dir, opts)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", cfg.Dir, err)
	}
	s := &Store{db: db, statusSize: statusSize}
	if err := s.checkSchema(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadQueue(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) checkSchema() error {
	v, err := s.Meta("schema")
	switch {
	case errors.Is(err, ErrNotFound):
		return s.SetMeta("schema", binary.BigEndian.AppendUint32(nil, schemaVersion))
	case err != nil:
		return err
	case len(v) != 4:
		return fmt.Errorf("%w: schema marker of %d bytes", ErrCorrupt, len(v))
	case binary.BigEndian.Uint32(v) != schemaVersion:
		return fmt.Errorf("%w: got %d, want %d", ErrSchema, binary.BigEndian.Uint32(v), schemaVersion)
	}
	return nil
}

// Close flushes the stats counts not yet flushed and closes the database.
// It is safe to call Close more than once.
func (s *Store) Close() error {
	if s.db == nil {
		return nil
	}
	flushErr := s.FlushStats()
	// Under flushMu, so that a stats query or flush running now finishes
	// before the database goes.
	s.stats.flushMu.Lock()
	defer s.stats.flushMu.Unlock()
	err := s.db.Close()
	s.db = nil
	return errors.Join(flushErr, err)
}

// Meta returns the node metadata value stored under name.
func (s *Store) Meta(name string) ([]byte, error) {
	return s.get(metaKey(name))
}

// SetMeta durably stores a node metadata value.
func (s *Store) SetMeta(name string, value []byte) error {
	if s.db == nil {
		return ErrClosed
	}
	return s.db.Set(metaKey(name), value, pebble.Sync)
}

func (s *Store) get(key []byte) ([]byte, error) {
	if s.db == nil {
		return nil, ErrClosed
	}
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: get: %w", err)
	}
	defer closer.Close()
	return append([]byte(nil), v...), nil
}

// pebbleLogger routes Pebble's logging to slog.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) { p.l.Debug(fmt.Sprintf(format, args...)) }
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
}

// Fatalf must not return (Pebble's contract): Pebble calls it only when the
// database cannot go on, so the process exits as Pebble's default logger does.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
	os.Exit(70)
}

func decodeJSON(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return nil
}
