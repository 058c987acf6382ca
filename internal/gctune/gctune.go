// Package gctune sets the garbage collector's pace for quotad's processes.
//
// quotad's heap is small (a few megabytes for a typical configuration, tens
// for 10,000 channels) while a busy daemon allocates quickly, so at Go's
// default pace (GOGC=100) the collector runs dozens of times a second, and
// its cycles are what a proxied call's slowest answers wait for: with
// GOGC=400 the latency the proxy adds fell from 0.93–1.08 ms to 0.61–0.96 ms
// at p99, and a spend over HTTP cost 54–57 µs of CPU instead of 64–66
// (docs/operations.md). The price is memory: the heap may grow to five times
// the live data instead of twice (95–108 MB resident after the 10,000-channel
// scale run instead of 52–60 MB). GOGC and GOMEMLIMIT in the environment
// still decide when set.
package gctune

import (
	"os"
	"runtime/debug"
)

// Percent is the GOGC value quotad runs with when the environment sets none.
const Percent = 400

// Apply sets the collector's pace to Percent unless the environment sets
// GOGC (which the Go runtime has then applied already), and returns the
// pace in effect (-1: off).
func Apply() int {
	if _, set := os.LookupEnv("GOGC"); set {
		return Current()
	}
	debug.SetGCPercent(Percent)
	return Percent
}

// Current returns the collector's pace in effect (-1: off).
func Current() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}
