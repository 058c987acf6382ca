package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/quotad/quotad/internal/benchkit"
)

// BenchmarkSpendHandler measures the server's own cost of a spend — routing,
// access check, decoding, metrics, encoding — over a service that answers
// at once, without a network:
//
//	go test ./server -run '^$' -bench SpendHandler -benchmem -cpuprofile cpu.out
func BenchmarkSpendHandler(b *testing.B) {
	ctx := context.Background()
	e := benchkit.Engine(b, nil)
	res, err := e.Spend(ctx, "bench", 1, "bench")
	if err != nil {
		b.Fatal(err)
	}
	h := New(stubService{res: res}, Options{Token: testToken, Logger: slog.New(slog.DiscardHandler)})
	body := []byte(`{"units": 1, "channel": "bench"}`)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/apis/bench/spend", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+testToken)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
