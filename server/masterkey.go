package server

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/urbackend/urbackend/secret"
)

const masterKeyFile = "master.key"

// loadMasterKey returns the configured key, or with the embedded database
// the one kept in dataDir (created with 0600 permissions on first start).
func loadMasterKey(configured, dataDir string, embedded bool) ([]byte, error) {
	if configured != "" {
		k, err := secret.ParseKey(configured)
		if err != nil {
			return nil, fmt.Errorf("UB_MASTER_KEY %w", err)
		}
		return k, nil
	}
	if !embedded {
		return nil, errors.New("UB_MASTER_KEY is required with UB_MONGODB_URI")
	}
	path := filepath.Join(dataDir, masterKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := secret.ParseKey(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("master key file %s %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read master key file: %w", err)
	}
	k := secret.NewKey()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create master key file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write master key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("write master key file: %w", err)
	}
	return k, f.Close()
}

// checkMasterKey makes sure the key is the one the platform database was
// set up with, by opening a value sealed with it on first start. Starting
// with another key would make every stored secret unreadable.
func checkMasterKey(ctx context.Context, db *mongo.Database, box *secret.Box) error {
	const label = "urbackend:master-key-check"
	coll := db.Collection("meta")
	var doc struct {
		Check string `bson:"check"`
	}
	err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "masterKey"}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "masterKey"}, {Key: "check", Value: box.Seal(label, label)}})
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("store master key check: %w", err)
		}
		if err == nil {
			return nil
		}
		// Another instance stored it first: check against that one.
		err = coll.FindOne(ctx, bson.D{{Key: "_id", Value: "masterKey"}}).Decode(&doc)
	}
	if err != nil {
		return fmt.Errorf("load master key check: %w", err)
	}
	if v, err := box.Open(doc.Check, label); err != nil || v != label {
		return errors.New("UB_MASTER_KEY is not the key this database was set up with: stored secrets cannot be decrypted with it")
	}
	return nil
}
