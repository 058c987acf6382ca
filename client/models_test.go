package client_test

import (
	"context"
	"testing"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/provider"
)

// The client names a model in its target (groq/MODEL): the HTTP API gets
// it as JSON "model", and only that model's windows count the spend, each
// by its meter.
func TestClientSpendsAndReportsByModel(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p, _ := provider.Lookup("groq")
	groq, err := p.API("groq")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.eng.Configure(ctx, []quotad.API{groq}, []quotad.Channel{{Name: "RankRiot", APIs: []string{"groq"}}}); err != nil {
		t.Fatal(err)
	}
	res, err := f.c.Spend(ctx, "groq/llama-3.1-8b-instant", 1200, "RankRiot")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, w := range res.Windows {
		got[w.Key] = w.Used
	}
	if res.Model != "llama-3.1-8b-instant" || got["llama-3.1-8b-instant/rpm"] != 1 || got["llama-3.1-8b-instant/tpd"] != 1200 || len(got) != 4 {
		t.Errorf("spend %+v", res)
	}
	r, err := f.c.Reserve(ctx, "groq/llama-3.1-8b-instant", 100, "RankRiot", 0)
	if err != nil || r.Model != "llama-3.1-8b-instant" {
		t.Fatalf("reserve %+v %v", r, err)
	}
	rep, err := f.c.ReportError(ctx, quotad.ErrorReport{Channel: "RankRiot", Model: "llama-3.1-8b-instant",
		Evidence: classify.Evidence{API: "groq", Status: 429, Message: "Rate limit reached on tokens per day (TPD). Please try again in 20m0s."}})
	if err != nil || !rep.Verdict.Quota {
		t.Fatalf("report %+v %v", rep, err)
	}
	a, err := f.c.API(ctx, "groq")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range a.Windows {
		if w.Exhausted != (w.Key == "llama-3.1-8b-instant/tpd") {
			t.Errorf("%s exhausted %v", w.Key, w.Exhausted)
		}
	}
}
