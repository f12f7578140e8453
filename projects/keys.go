package projects

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/urbackend/urbackend/errs"
	"github.com/urbackend/urbackend/secret"
)

// Authenticate finds the project of an API key and the key's kind: a key
// starting with sk_live_ is a secret key (looked up by its hash), anything
// else a publishable key. Errors: Unauthenticated with the messages of
// contract/REST.md §2.1.
func (s *Service) Authenticate(ctx context.Context, key string) (*Project, KeyKind, error) {
	if key == "" {
		return nil, "", errs.New(errs.Unauthenticated, "API key not found")
	}
	invalid := errs.New(errs.Unauthenticated, "API key is expired or invalid.")
	var p Project
	var err error
	kind := Publishable
	if strings.HasPrefix(key, SecretPrefix) {
		kind = Secret
		h := secret.Hash(key)
		err = s.coll.FindOne(ctx, bson.D{{Key: "secretKeyHash", Value: h}}).Decode(&p)
		if err == nil && !secret.Equal(p.SecretKeyHash, h) {
			return nil, "", invalid
		}
	} else {
		err = s.coll.FindOne(ctx, bson.D{{Key: "publishableKey", Value: key}}).Decode(&p)
		if err == nil && !secret.Equal(p.PublishableKey, key) {
			return nil, "", invalid
		}
	}
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, "", invalid
	}
	if err != nil {
		return nil, "", fmt.Errorf("look up api key: %w", err)
	}
	return &p, kind, nil
}
