package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/quotad/quotad"
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
			if !resetHeader && ev.Fields["trigger"] == "timer" {
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
			if ev.Channel == "" || ev.Fields["reason"] == "" {
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
