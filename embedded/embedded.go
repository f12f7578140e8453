// Package embedded runs the FerretDB v1 (SQLite handler) database that the
// server uses when no external MongoDB is configured.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// DB is a running embedded FerretDB instance.
type DB struct {
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// Start starts FerretDB with its SQLite files in dir, listening on addr
// (host:port; port 0 picks a free port). Only one instance may be started at
// a time in a process: concurrent starts race inside FerretDB.
func Start(dir, addr string, logger *slog.Logger) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create embedded database directory: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("embedded database directory: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + filepath.ToSlash(abs) + "/",
	})
	if err != nil {
		return nil, fmt.Errorf("start embedded database on %s: %w", addr, unwrapListen(err))
	}
	ctx, cancel := context.WithCancel(context.Background())
	db := &DB{uri: f.MongoDBURI(), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(db.done)
		_ = f.Run(ctx)
	}()
	return db, nil
}

// URI returns the MongoDB connection string of the running instance.
func (db *DB) URI() string { return db.uri }

// Close stops accepting connections, closes the open ones and the SQLite
// files, and waits until that is done.
func (db *DB) Close() {
	db.cancel()
	<-db.done
}

func unwrapListen(err error) error {
	var inner interface{ Unwrap() error }
	for errors.As(err, &inner) {
		next := inner.Unwrap()
		if next == nil {
			break
		}
		err = next
	}
	return err
}
