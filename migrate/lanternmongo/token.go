package lanternmongo

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/halyardhq/halyard/core"
)

// gcmNonceSize is Lantern's IV length: 16 bytes, not GCM's usual 12.
const gcmNonceSize = 16

// DecryptToken decrypts a Lantern token (docs/compat/lantern.md §5.2): AES-256-GCM keyed with the
// 32-byte secret, a 16-byte IV, the tag apart, no additional data; every
// part lowercase hex as stored.
func DecryptToken(secret []byte, ivHex, encryptedHex, tagHex string) (string, error) {
	iv, err1 := hex.DecodeString(ivHex)
	ct, err2 := hex.DecodeString(encryptedHex)
	tag, err3 := hex.DecodeString(tagHex)
	if err := errors.Join(err1, err2, err3); err != nil {
		return "", fmt.Errorf("token is not hex: %w", err)
	}
	if len(iv) != gcmNonceSize || len(tag) != 16 {
		return "", fmt.Errorf("token has a %d-byte IV and a %d-byte tag, want 16 and 16", len(iv), len(tag))
	}
	block, err := aes.NewCipher(secret)
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, gcmNonceSize)
	if err != nil {
		return "", err
	}
	plain, err := gcm.Open(nil, iv, append(ct, tag...), nil)
	if err != nil {
		return "", errors.New("token does not decrypt with this secret")
	}
	return string(plain), nil
}

// importToken decrypts the document's token and stores its hash as the
// user's token, unless it already is.
func (im *importer) importToken(ctx context.Context, d *storageDoc) error {
	if d.Token == nil {
		im.sum.skip(storageCollection, "no token")
		return nil
	}
	tok, err := DecryptToken(im.opts.Secret, d.Token.IV, d.Token.EncryptedText, d.Token.Tag)
	if err != nil {
		im.sum.skip(storageCollection, err.Error())
		return nil
	}
	t := im.opts.Tokens
	if t.IsToken(d.UserID, tok) {
		im.sum.TokensPresent++
		return nil
	}
	replacing := t.HasToken(d.UserID)
	if !im.opts.DryRun {
		if err := t.Import(ctx, d.UserID, tok); err != nil {
			if core.ErrorCode(err) == core.EINVALID {
				im.sum.skip(storageCollection, "token already held by another user")
				return nil
			}
			return fmt.Errorf("storing the token hash of %s: %w", d.UserID, err)
		}
	}
	im.sum.TokensImported++
	if replacing {
		im.sum.TokensReplaced++
	}
	return nil
}
