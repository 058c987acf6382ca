package simulate_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/simulate"
)

func TestQuick(t *testing.T) {
	cfg, err := config.Load("../examples/simulate/quotad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	rep, err := simulate.Run(context.Background(), cfg, simulate.Options{Days: 3, Baseline: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(time.Since(t0))
	rep.WriteText(os.Stdout)
}
