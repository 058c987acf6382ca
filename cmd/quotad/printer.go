package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
)

// printer writes events as the seed's human lines:
//
//	[WARNING] GROQ quota exhausted at 2026-01-11 18:30:00 PST - will auto-resume at ...
//	[REFRESH] QUOTA RESET - 2026-01-12 00:00:00 PST
//	[OK] GROQ quota reset at 2026-01-12 00:00:00 PST
//	[REFRESH] Quota reset detected - resuming 1 paused channel(s)...
//	   [OK] Resumed: RankRiot
type printer struct {
	mu  sync.Mutex
	w   io.Writer
	loc *time.Location
}

func (p *printer) print(events []quotad.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, line := range humanLines(events, p.loc) {
		fmt.Fprintln(p.w, line)
	}
}

// follow prints the events of the store's log as they are committed — by
// this daemon or by any other process (the CLI, a job, another daemon on a
// shared store) — starting after the newest there now. It reads the log
// when the engine commits and every poll for other processes' commits. The
// returned stop prints what is left and returns once the reader has ended.
func (p *printer) follow(e *engine.Engine, poll time.Duration) (stop func(), err error) {
	last, err := newestEvent(e)
	if err != nil {
		return nil, err
	}
	wake := make(chan struct{}, 1)
	unsubscribe := e.Subscribe(func([]quotad.Event) {
		select { // never block the engine's writer
		case wake <- struct{}{}:
		default:
		}
	})
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			stopping := false
			select {
			case <-wake:
			case <-t.C:
			case <-quit:
				stopping = true
			}
			last = p.printAfter(e, last)
			if stopping {
				return
			}
		}
	}()
	return func() {
		unsubscribe()
		close(quit)
		<-done
	}, nil
}

// printAfter prints the events after id last and returns the newest id
// printed.
func (p *printer) printAfter(e *engine.Engine, last int64) int64 {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		evs, err := e.Events(ctx, quotad.EventFilter{After: last, Limit: 500})
		cancel()
		if err != nil || len(evs) == 0 {
			return last // a store error: the next read tries again
		}
		slices.Reverse(evs) // newest first in the log
		p.print(evs)
		last = evs[len(evs)-1].ID
		if len(evs) < 500 {
			return last
		}
	}
}

func newestEvent(e *engine.Engine) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evs, err := e.Events(ctx, quotad.EventFilter{Limit: 1})
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	return evs[0].ID, nil
}

// humanLines turns one transaction's events into the lines a person reads.
func humanLines(events []quotad.Event, loc *time.Location) []string {
	var lines []string
	resetHeader, resumeHeader := false, false
	resumes := 0
	for _, ev := range events {
		if ev.Category == quotad.CategoryAutoResume {
			resumes++
		}
	}
	for _, ev := range events {
		ts := ev.Time.In(loc).Format("2006-01-02 15:04:05 MST")
		switch ev.Category {
		case quotad.CategoryQuotaReset:
			if r, _ := ev.Refill(); !resetHeader && r.Trigger == quotad.TriggerTimer {
				lines = append(lines, "[REFRESH] QUOTA RESET - "+ts)
				resetHeader = true
			}
			lines = append(lines, "[OK] "+ev.Message)
		case quotad.CategoryAutoResume:
			if !resumeHeader {
				lines = append(lines, fmt.Sprintf("[REFRESH] Quota reset detected - resuming %d paused channel(s)...", resumes))
				resumeHeader = true
			}
			lines = append(lines, "   [OK] Resumed: "+ev.Channel)
		case quotad.CategoryResume:
			lines = append(lines, fmt.Sprintf("[OK] Resumed: %s - %s", ev.Channel, ev.Message))
		case quotad.CategoryQuota:
			if _, paused := ev.Paused(); ev.Channel == "" || !paused {
				lines = append(lines, "[WARNING] "+ev.Message)
				continue
			}
			fallthrough
		default:
			ch := ""
			if ev.Channel != "" {
				ch = " [" + ev.Channel + "]"
			}
			lines = append(lines, fmt.Sprintf("[%s] [%s]%s [%s] %s", ev.Time.In(loc).Format("15:04:05"), ev.Level, ch, ev.Category, ev.Message))
		}
	}
	return lines
}
