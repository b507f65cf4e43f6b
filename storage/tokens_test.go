package storage

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/halyardhq/halyard/core"
)

func randomHash(t testing.TB) []byte {
	h := make([]byte, core.TokenHashSize)
	rand.Read(h)
	return h
}

func TestTokenHashReplaceAndDelete(t *testing.T) {
	ctx := t.Context()
	u1, u2 := uid(t, 1), uid(t, 2)
	a, b := randomHash(t), randomHash(t)

	if err := shared.SaveTokenHash(ctx, u1, a); err != nil {
		t.Fatal(err)
	}
	if err := shared.SaveTokenHash(ctx, u1, b); err != nil {
		t.Fatal(err)
	}
	if got := loadTokens(t, shared)[u1]; !bytes.Equal(got, b) {
		t.Errorf("after replace: %x, want %x", got, b)
	}
	// The old hash is free again once replaced.
	if err := shared.SaveTokenHash(ctx, u2, a); err != nil {
		t.Fatalf("reusing a replaced hash: %v", err)
	}

	// The unique index: one hash, one user, whether the write would
	// replace a document (u2) or insert one (u3).
	for _, user := range []string{u2, uid(t, 3)} {
		err := shared.SaveTokenHash(ctx, user, b)
		var e *core.Error
		if !errors.As(err, &e) || e.Code != core.EINVALID {
			t.Errorf("saving another user's hash for %s: %v, want EINVALID", user, err)
		}
	}
	if got := loadTokens(t, shared)[u2]; !bytes.Equal(got, a) {
		t.Errorf("after the refused write u2 holds %x, want %x", got, a)
	}

	if err := shared.DeleteTokenHash(ctx, u1); err != nil {
		t.Fatal(err)
	}
	if _, ok := loadTokens(t, shared)[u1]; ok {
		t.Error("hash still stored after delete")
	}
	if err := shared.DeleteTokenHash(ctx, u1); err != nil {
		t.Errorf("deleting an absent hash: %v", err)
	}
	if err := shared.SaveTokenHash(ctx, u2, b); err != nil {
		t.Errorf("hash of a deleted token is free again: %v", err)
	}
}

func TestSaveTokenHashRefusesNonHash(t *testing.T) {
	for _, h := range [][]byte{nil, []byte(core.NewToken()), make([]byte, core.TokenHashSize+1)} {
		if err := shared.SaveTokenHash(t.Context(), uid(t, 0), h); err == nil {
			t.Errorf("SaveTokenHash(%q) succeeded", h)
		}
	}
	if _, ok := loadTokens(t, shared)[uid(t, 0)]; ok {
		t.Error("something was stored")
	}
}

// TestTokensDumpHoldsNoToken issues tokens through core.Tokens and checks a
// raw dump of the tokens collection: each document is the user id, the
// keyed hash and a time, and no token appears anywhere in its bytes.
func TestTokensDumpHoldsNoToken(t *testing.T) {
	s := openTemp(t, Config{})
	ctx := t.Context()
	tokens, err := core.NewTokens(bytes.Repeat([]byte("k"), 32), s)
	if err != nil {
		t.Fatal(err)
	}
	issued := map[string]string{}
	for i := range 5 {
		user := uid(t, i)
		tok, err := tokens.Issue(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		issued[user] = tok
	}
	// A re-issue replaces the first token.
	old := issued[uid(t, 0)]
	if issued[uid(t, 0)], err = tokens.Issue(ctx, uid(t, 0)); err != nil {
		t.Fatal(err)
	}

	cur, err := s.tokens.Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	if len(docs) != len(issued) {
		t.Fatalf("%d documents, want %d", len(docs), len(issued))
	}
	for _, d := range docs {
		raw, _ := bson.Marshal(d)
		for _, tok := range append([]string{old}, valuesOf(issued)...) {
			hexPart := strings.TrimPrefix(tok, core.TokenPrefix)
			if bytes.Contains(raw, []byte(hexPart)) {
				t.Errorf("document %v contains token %s", d["_id"], tok)
			}
		}
		user, _ := d["_id"].(string)
		tok, ok := issued[user]
		if !ok {
			t.Errorf("unexpected document %v", d)
			continue
		}
		for field, v := range d {
			switch field {
			case "_id":
			case "hash":
				bin, ok := v.(bson.Binary)
				if !ok || !bytes.Equal(bin.Data, tokens.Hash(tok)) {
					t.Errorf("%s: hash %v, want %x", user, v, tokens.Hash(tok))
				}
			case "created_at":
				if _, ok := v.(bson.DateTime); !ok {
					t.Errorf("%s: created_at is %T", user, v)
				}
			default:
				t.Errorf("%s: unexpected field %s = %v", user, field, v)
			}
		}
	}

	// What the dump holds is enough to verify after a restart.
	again, _ := core.NewTokens(bytes.Repeat([]byte("k"), 32), s)
	if err := again.Load(ctx); err != nil {
		t.Fatal(err)
	}
	for user, tok := range issued {
		if got, err := again.Verify(tok); err != nil || got != user {
			t.Errorf("Verify(%s) = %q, %v; want %s", tok, got, err, user)
		}
	}
	if _, err := again.Verify(old); err == nil {
		t.Error("the replaced token still verifies")
	}
}

func valuesOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
