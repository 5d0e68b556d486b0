package restyopenssl

import (
	"context"
	"strings"
	"testing"
)

// RSA keys are at most OpenSSL's 16384 bits, and generating one gives up
// at the worker's deadline (a large key takes minutes).
func TestPkeyGenerationBounded(t *testing.T) {
	if _, err := generatePkey(context.Background(), "RSA", 1<<20, ""); err == nil || !strings.Contains(err.Error(), "at most 16384") {
		t.Fatalf("bits = 2^20: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := generatePkey(ctx, "RSA", 2048, ""); err != context.Canceled {
		t.Fatalf("under a fired deadline: %v", err)
	}
}
