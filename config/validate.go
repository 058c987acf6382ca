package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/rule"
)

// Limits of the settings.
const (
	MaxErrorThreshold  = 100000
	MinSafetyTick      = Duration(time.Second)
	MinPollInterval    = Duration(100 * time.Millisecond)
	MaxPollInterval    = Duration(time.Minute)
	MaxConcurrentLimit = 10000
	MaxLimit           = 1_000_000_000_000_000 // 1e15 units
	MaxChannelName     = 128                   // characters
	MinJobTimeout      = Duration(time.Second)
)

// nameRE is the syntax of API and window names.
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

const nameRule = "expected lower-case letters, digits, '_', '.' or '-', starting with a letter or digit, at most 64 characters"

// Validate checks every setting and returns a *ValidationError listing all
// problems, or nil. Lines are 0: a Config built in Go has no file (Parse
// fills them in). Validate also rewrites each job's Schedule to its
// canonical rule text.
func (c *Config) Validate() error {
	ps := c.problems()
	if len(ps) == 0 {
		return nil
	}
	ve := &ValidationError{}
	for _, p := range ps {
		ve.Errors = append(ve.Errors, FieldError{Path: p.path.String(), Message: p.msg})
	}
	return ve
}

// problems checks the config, in the order of the file's sections.
func (c *Config) problems() []problem {
	var ps []problem
	add := func(p fieldPath, format string, args ...any) {
		ps = append(ps, problem{p, fmt.Sprintf(format, args...)})
	}
	loc, err := loadZone(c.Timezone)
	if err != nil {
		add(fieldPath{"timezone"}, "unknown time zone %q; expected an IANA zone name like America/Los_Angeles, Europe/Berlin or UTC", c.Timezone)
		loc = time.UTC // check rules anyway
	}
	if c.ErrorThreshold < 1 || c.ErrorThreshold > MaxErrorThreshold {
		add(fieldPath{"error_threshold"}, "expected a number of errors from 1 to %d, got %d", MaxErrorThreshold, c.ErrorThreshold)
	}
	if c.SafetyTick < MinSafetyTick {
		add(fieldPath{"safety_tick"}, "expected a duration of at least %s, got %s", MinSafetyTick, c.SafetyTick)
	}
	if c.PollInterval < MinPollInterval || c.PollInterval > MaxPollInterval {
		add(fieldPath{"poll_interval"}, "expected a duration from %s to %s, got %s", MinPollInterval, MaxPollInterval, c.PollInterval)
	}
	if c.Store.Timeout < MinStoreTimeout || c.Store.Timeout > MaxStoreTimeout {
		add(fieldPath{"store", "timeout"}, "expected a duration from %s to %s, got %s", MinStoreTimeout, MaxStoreTimeout, c.Store.Timeout)
	}
	if c.Durability != DurabilityCrash && c.Durability != DurabilityPower {
		add(fieldPath{"durability"}, "expected %s (survives a crash; the default) or %s (survives a power loss too), got %q", DurabilityCrash, DurabilityPower, c.Durability)
	}
	if msg := checkListen(c.Server.Listen); msg != "" {
		add(fieldPath{"server", "listen"}, "%s", msg)
	}
	if n := c.Runner.MaxConcurrent; n < 1 || n > MaxConcurrentLimit {
		add(fieldPath{"runner", "max_concurrent"}, "expected a number of jobs from 1 to %d, got %d", MaxConcurrentLimit, n)
	}

	if len(c.APIs) == 0 {
		add(fieldPath{"apis"}, "no APIs configured; expected at least one, or no \"apis\" key to use the built-in groq, youtube and pexels")
	}
	apis := map[string]bool{}
	listens := map[string]string{c.Server.Listen: "server.listen"}
	for _, a := range c.APIs {
		p := fieldPath{"apis", a.Name}
		switch {
		case !nameRE.MatchString(a.Name):
			add(p, "invalid API name %q; %s", a.Name, nameRule)
		case apis[a.Name]:
			add(p, "duplicate API %q", a.Name)
		}
		apis[a.Name] = true
		validateProvider(a, p, add)
		if a.Listen != "" {
			if other, dup := listens[a.Listen]; dup {
				add(p.to("listen"), "address %s is already %s's; expected an address of this API's own", a.Listen, other)
			}
			listens[a.Listen] = "apis." + a.Name + ".listen"
		}
		if strings.TrimSpace(a.Unit) == "" {
			add(p.to("unit"), "empty unit; expected a word like tokens, units or requests")
		}
		for i, k := range a.Keywords {
			if strings.TrimSpace(k) == "" {
				add(p.to("keywords", i), "empty keyword; expected a word that appears in this API's error messages")
			}
		}
		if _, perModel := a.perModel(); len(a.Windows) == 0 && !perModel && len(a.Models) == 0 {
			add(p.to("windows"), `no windows; expected at least one, like {name: daily, limit: 100000, reset: "daily 00:00"}`)
		}
		windows := map[string]int{}
		for i, w := range a.Windows {
			wp := p.to("windows", i)
			if j, dup := windows[w.Name]; dup {
				add(wp.to("name"), "duplicate window name %q (also windows[%d]); expected unique names", w.Name, j)
			} else {
				if !nameRE.MatchString(w.Name) {
					add(wp.to("name"), "invalid window name %q; %s", w.Name, nameRule)
				}
				windows[w.Name] = i
			}
			if w.Limit < 1 || w.Limit > MaxLimit {
				add(wp.to("limit"), "expected a limit from 1 to %d, got %d", int64(MaxLimit), w.Limit)
			}
			if strings.TrimSpace(w.Reset) == "" {
				add(wp.to("reset"), `missing reset rule; expected one like "daily 00:00", "every 1h" or "monthly 1 00:00"`)
			} else if _, err := rule.Parse(w.Reset, loc); err != nil {
				add(wp.to("reset"), "%s", ruleMessage(err))
			}
		}
		ps = append(ps, a.needsProblems(p)...) // reserve, pace (needs.go)
		ps = append(ps, a.modelProblems(p)...) // models, meters, credentials, prices (models.go)
	}

	channels := map[string]bool{}
	for _, ch := range c.Channels {
		p := fieldPath{"channels", ch.Name}
		if msg := checkChannelName(ch.Name); msg != "" {
			add(p, "%s", msg)
		} else if channels[ch.Name] {
			add(p, "duplicate channel %q", ch.Name)
		}
		channels[ch.Name] = true
		if len(ch.APIs) == 0 && len(ch.Fallbacks) == 0 {
			add(p.to("apis"), "no APIs; expected the list of APIs the channel needs, like [groq, youtube]")
		}
		needs, needed := map[string]bool{}, []string(nil)
		for i, a := range ch.APIs {
			switch {
			case !apis[quotad.ParseTarget(a).API]:
				add(p.to("apis", i), "unknown API %q; expected one of: %s", a, strings.Join(apiNames(c.APIs), ", "))
			case needs[a]:
				add(p.to("apis", i), "duplicate API %q; expected each API once", a)
			default:
				needs[a], needed = true, append(needed, a)
			}
		}
		if ch.Priority != "" && ch.Priority.Rank() < 0 {
			add(p.to("priority"), "unknown priority %q; expected low, normal or high", ch.Priority)
		}
		ps = append(ps, c.channelNeedsProblems(p, ch)...) // budgets, fallbacks (needs.go)
		if ch.Job != nil {
			// A job's estimate may name a fallback provider as well.
			ps = append(ps, ch.Job.problems(p.to("job"), loc, append(needed, ch.Providers()...))...)
		}
	}
	return append(ps, c.extraProblems()...)
}

// problems checks a job; it rewrites Schedule to canonical rule text.
func (j *JobConfig) problems(p fieldPath, loc *time.Location, needed []string) []problem {
	var ps []problem
	add := func(p fieldPath, format string, args ...any) {
		ps = append(ps, problem{p, fmt.Sprintf(format, args...)})
	}
	if j.Simulate != nil {
		ps = append(ps, j.Simulate.problems(p.to("simulate"), needed)...)
	}
	switch {
	case j.Simulate != nil && len(j.Command) == 0:
		// A job described only by what it calls is for quotad simulate.
	case len(j.Command) == 0 || strings.TrimSpace(j.Command[0]) == "" ||
		(j.Shell && strings.TrimSpace(j.Command[len(j.Command)-1]) == ""):
		add(p.to("command"), `empty command; expected a list like ["python3", "make_video.py"] or a string run with sh -c`)
	case slices.ContainsFunc(j.Command, func(a string) bool { return strings.ContainsRune(a, 0) }):
		add(p.to("command"), "command contains a NUL byte; expected text")
	}
	if strings.ContainsRune(j.Dir, 0) {
		add(p.to("dir"), "directory contains a NUL byte; expected a path")
	}
	for _, k := range slices.Sorted(maps.Keys(j.Env)) {
		if v := j.Env[k]; k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			add(p.to("env", k), "invalid environment variable %q; expected a non-empty name without '=' and values without NUL", k)
		}
	}
	if j.Schedule != "" {
		if r, err := rule.Parse(j.Schedule, loc); err != nil {
			add(p.to("schedule"), "%s", ruleMessage(err))
		} else {
			j.Schedule = r.String()
		}
	}
	if j.Timeout < MinJobTimeout {
		add(p.to("timeout"), "expected a duration of at least %s, got %s", MinJobTimeout, j.Timeout)
	}
	for _, k := range slices.Sorted(maps.Keys(j.Estimate)) {
		switch v := j.Estimate[k]; {
		case !slices.Contains(needed, k):
			add(p.to("estimate", k), "%q is not an API this channel needs; expected one of: %s", k, strings.Join(needed, ", "))
		case v < 0 || v > MaxLimit:
			add(p.to("estimate", k), "expected an estimate from 0 to %d units, got %d", int64(MaxLimit), v)
		}
	}
	return ps
}

// ruleMessage returns a rule error without the "invalid input: " prefix.
func ruleMessage(err error) string {
	msg := err.Error()
	if errors.Is(err, quotad.ErrInvalid) {
		msg = strings.TrimPrefix(msg, quotad.ErrInvalid.Error()+": ")
	}
	return msg
}

func checkListen(addr string) string {
	const expected = "expected host:port, like 127.0.0.1:8080 or :8080"
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("invalid address %q; %s", addr, expected)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("invalid port %q; %s (port 1 to 65535)", port, expected)
	}
	if strings.ContainsAny(host, " \t/") {
		return fmt.Sprintf("invalid host %q; %s", host, expected)
	}
	return ""
}

func checkChannelName(name string) string {
	switch {
	case name == "":
		return "empty channel name; expected a name like RankRiot"
	case !utf8.ValidString(name):
		return fmt.Sprintf("channel name %q is not valid UTF-8", name)
	case utf8.RuneCountInString(name) > MaxChannelName:
		return fmt.Sprintf("channel name is %d characters long; expected at most %d", utf8.RuneCountInString(name), MaxChannelName)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Sprintf("channel name %q contains control characters; expected printable text", name)
	}
	return ""
}

func apiNames(apis []APIConfig) []string {
	names := make([]string, 0, len(apis))
	for _, a := range apis {
		names = append(names, a.Name)
	}
	return names
}
