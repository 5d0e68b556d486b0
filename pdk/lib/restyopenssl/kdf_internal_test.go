package restyopenssl

import (
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"
	"testing"
)

// pbkdf2Key derives what crypto/pbkdf2 derives, over several blocks and
// digests.
func TestPBKDF2AsCrypto(t *testing.T) {
	for _, h := range []func() hash.Hash{sha1.New, sha256.New, sha512.New} {
		for _, c := range []struct{ iter, n int }{{1, 20}, {2, 1}, {3, 64}, {1025, 100}, {4096, 33}} {
			want, err := pbkdf2.Key(h, "password", []byte("salt"), c.iter, c.n)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pbkdf2Key(context.Background(), h, "password", []byte("salt"), c.iter, c.n)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("iter %d, %d bytes: %x %v, want %x", c.iter, c.n, got, err, want)
			}
		}
	}
}

// The worker's deadline reaches a derivation of many iterations (2^22:
// seconds of work, stopped within pbkdf2Poll).
func TestPBKDF2StopsAtDeadline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	k, err := pbkdf2Key(ctx, sha256.New, "p", []byte("s"), 1<<22, 32)
	if !errors.Is(err, context.Canceled) || k != nil {
		t.Fatalf("got %x %v, want context.Canceled", k, err)
	}
}
