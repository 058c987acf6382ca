package config_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/rule"
	"go.yaml.in/yaml/v3"
)

// canonical returns the rule text Domain stores for a reset written in a
// config whose timezone is zone.
func canonical(t *testing.T, reset, zone string) string {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	r, err := rule.Parse(reset, loc)
	if err != nil {
		t.Fatalf("rule.Parse(%q): %v", reset, err)
	}
	return r.String()
}

func TestDefaultConfig(t *testing.T) {
	c := config.DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	if c.Timezone != "America/Los_Angeles" || c.ErrorThreshold != 20 || c.SafetyTick != config.Duration(time.Hour) ||
		c.PollInterval != config.Duration(time.Second) || c.DB != "" || c.Server.Listen != "127.0.0.1:8080" ||
		c.Server.Token != "" || c.Runner.MaxConcurrent != 4 || len(c.Channels) != 0 {
		t.Errorf("DefaultConfig() settings = %+v", c)
	}
	if got := c.Location().String(); got != "America/Los_Angeles" {
		t.Errorf("Location() = %s", got)
	}
	// The seed's table: groq 100,000 tokens daily, youtube 10,000 units
	// daily (both at midnight Pacific), pexels 20,000 requests monthly.
	want := []config.APIConfig{
		{Name: "groq", Unit: "tokens", Keywords: []string{"groq", "llama"}, AutoResume: true,
			Windows: []config.WindowConfig{{Name: "daily", Limit: 100000, Reset: "daily 00:00"}}},
		{Name: "youtube", Unit: "units", Keywords: []string{"youtube", "google"}, AutoResume: true,
			Windows: []config.WindowConfig{{Name: "daily", Limit: 10000, Reset: "daily 00:00"}}},
		{Name: "pexels", Unit: "requests", Keywords: []string{"pexels"}, AutoResume: true,
			Windows: []config.WindowConfig{{Name: "hourly", Limit: 200, Reset: "every 1h"}, {Name: "monthly", Limit: 20000, Reset: "monthly 1 00:00"}}},
	}
	if !reflect.DeepEqual(c.APIs, want) {
		t.Errorf("DefaultConfig().APIs =\n%+v\nwant\n%+v", c.APIs, want)
	}
}

func TestDefaultConfigIndependent(t *testing.T) {
	a := config.DefaultConfig()
	a.APIs[0].Keywords[0] = "changed"
	a.APIs[0].Windows[0].Limit = 1
	if b := config.DefaultConfig(); b.APIs[0].Keywords[0] != "groq" || b.APIs[0].Windows[0].Limit != 100000 {
		t.Error("DefaultConfig shares memory between calls")
	}
}

func TestDomainDefaults(t *testing.T) {
	apis, channels := config.DefaultConfig().Domain()
	if len(channels) != 0 {
		t.Errorf("channels = %v", channels)
	}
	type win struct {
		api, name string
		limit     int64
		rule      string
	}
	want := []win{
		{"groq", "daily", 100000, canonical(t, "daily 00:00", "America/Los_Angeles")},
		{"youtube", "daily", 10000, canonical(t, "daily 00:00", "America/Los_Angeles")},
		{"pexels", "hourly", 200, canonical(t, "every 1h", "America/Los_Angeles")},
		{"pexels", "monthly", 20000, canonical(t, "monthly 1 00:00", "America/Los_Angeles")},
	}
	var got []win
	for _, a := range apis {
		if !a.AutoResume || !a.Available() || a.Unit == "" || len(a.Keywords) == 0 {
			t.Errorf("API %+v", a)
		}
		for _, w := range a.Windows {
			got = append(got, win{a.Name, w.Name, w.Limit, w.Rule})
			if w.Used != 0 || w.Reserved != 0 || w.Exhausted || !w.NextReset.IsZero() || !w.LastReset.IsZero() {
				t.Errorf("%s/%s has state: %+v", a.Name, w.Name, w)
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("windows =\n%v\nwant\n%v", got, want)
	}
	if r := apis[0].Windows[0].Rule; !strings.Contains(r, "America/Los_Angeles") || !strings.Contains(r, "daily") {
		t.Errorf("groq rule %q does not name its zone", r)
	}
}

func TestDomainUsesTimezone(t *testing.T) {
	c, err := config.Parse([]byte("timezone: Europe/Berlin\n"), "quotad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	apis, _ := c.Domain()
	if got, want := apis[0].Windows[0].Rule, canonical(t, "daily 00:00", "Europe/Berlin"); got != want {
		t.Errorf("rule = %q, want %q", got, want)
	}
}

func TestExample(t *testing.T) {
	c, err := config.Parse([]byte(config.Example), "quotad.yaml")
	if err != nil {
		t.Fatalf("Parse(Example): %v", err)
	}
	def := config.DefaultConfig()
	if !reflect.DeepEqual(c.APIs, def.APIs) {
		t.Errorf("Example APIs differ from the defaults:\n%+v\n%+v", c.APIs, def.APIs)
	}
	c.Channels = nil
	if !reflect.DeepEqual(c, def) {
		t.Errorf("Example settings differ from the defaults:\n%+v\n%+v", c, def)
	}
	c, _ = config.Parse([]byte(config.Example), "quotad.yaml")
	_, channels := c.Domain()
	want := []quotad.Channel{{Name: "RankRiot", Priority: quotad.PriorityNormal, APIs: []string{"groq", "youtube", "pexels"}, StoredActive: true}}
	if !reflect.DeepEqual(channels, want) {
		t.Errorf("Domain() channels = %+v, want %+v", channels, want)
	}
	if !channels[0].Active() || c.Channels[0].Job != nil {
		t.Errorf("RankRiot = %+v (job %+v)", channels[0], c.Channels[0].Job)
	}
}

// TestExampleJob uncomments the example's job: what `quotad init` suggests
// must work when a person enables it.
func TestExampleJob(t *testing.T) {
	var lines []string
	for _, l := range strings.Split(config.Example, "\n") {
		if s, ok := strings.CutPrefix(l, "    # "); ok && (strings.HasPrefix(s, "job:") || strings.HasPrefix(s, "  ")) {
			l = "    " + s
		}
		lines = append(lines, l)
	}
	c, err := config.Parse([]byte(strings.Join(lines, "\n")), "quotad.yaml")
	if err != nil {
		t.Fatalf("Parse(Example with job): %v", err)
	}
	j := c.Channels[0].Job
	if j == nil {
		t.Fatal("no job")
	}
	want := &config.JobConfig{
		Command:  []string{"python3", "make_video.py"},
		Dir:      "/srv/rankriot",
		Env:      map[string]string{"PYTHONUNBUFFERED": "1"},
		Schedule: canonical(t, "every 6h", "America/Los_Angeles"),
		Timeout:  config.Duration(30 * time.Minute),
		Estimate: map[string]int64{"groq": 8000, "youtube": 1600},
	}
	if !reflect.DeepEqual(j, want) {
		t.Errorf("job = %+v, want %+v", j, want)
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		str  string
	}{
		{"1h", time.Hour, "1h"},
		{"30m", 30 * time.Minute, "30m"},
		{"1s", time.Second, "1s"},
		{"100ms", 100 * time.Millisecond, "100ms"},
		{"1h30m", 90 * time.Minute, "1h30m"},
		{"1d", 24 * time.Hour, "24h"},
		{"1d12h", 36 * time.Hour, "36h"},
		{"1.5d", 36 * time.Hour, "36h"},
		{"0", 0, "0s"},
		{"-2m", -2 * time.Minute, "-2m"},
	}
	for _, tt := range tests {
		got, err := config.ParseDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if s := config.Duration(got).String(); s != tt.str {
			t.Errorf("Duration(%v).String() = %q, want %q", got, s, tt.str)
		}
		out, err := yaml.Marshal(struct{ D config.Duration }{config.Duration(got)})
		if err != nil || string(out) != "d: "+tt.str+"\n" {
			t.Errorf("Marshal(%v) = %q, %v", got, out, err)
		}
		var back struct{ D config.Duration }
		if err := yaml.Unmarshal(out, &back); err != nil || time.Duration(back.D) != tt.want {
			t.Errorf("Unmarshal(%q) = %v, %v", out, back.D, err)
		}
	}
	for _, bad := range []string{"", "5", "1x", "d", "h1", "1h5", "--1h", "1e3h", "300000000d", "9223372037s"} {
		if d, err := config.ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", bad, d)
		} else if !errors.Is(err, quotad.ErrInvalid) {
			t.Errorf("ParseDuration(%q) error %v does not wrap ErrInvalid", bad, err)
		}
	}
}

func TestValidateInGo(t *testing.T) {
	c := config.DefaultConfig()
	c.Timezone = "Local"
	c.APIs = append(c.APIs, config.APIConfig{Name: "groq", Unit: "", Windows: nil})
	c.Channels = []config.ChannelConfig{
		{Name: "a\x07b", APIs: []string{"groq"}},
		{Name: strings.Repeat("x", 129), APIs: []string{"groq"}, Priority: "urgent"},
		{Name: "ok", APIs: nil, Job: &config.JobConfig{Command: []string{""}}},
	}
	err := c.Validate()
	var ve *config.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, quotad.ErrInvalid) {
		t.Fatalf("Validate() = %v", err)
	}
	want := []string{
		`timezone: unknown time zone "Local"`,
		`apis.groq: duplicate API "groq"`,
		`apis.groq.unit: empty unit`,
		`apis.groq.windows: no windows`,
		`channels["a\ab"]: channel name "a\ab" contains control characters`,
		`channels.xxxx`, // too long
		`.priority: unknown priority "urgent"`,
		`channels.ok.apis: no APIs`,
		`channels.ok.job.command: empty command`,
		`channels.ok.job.timeout: expected a duration of at least 1s, got 0s`,
	}
	if len(ve.Errors) != len(want) {
		t.Fatalf("Validate() found %d problems, want %d:\n%v", len(ve.Errors), len(want), err)
	}
	for i, fe := range ve.Errors {
		if fe.Line != 0 || !strings.Contains(fe.String(), want[i]) {
			t.Errorf("problem %d = %q (line %d), want it to contain %q", i, fe.String(), fe.Line, want[i])
		}
	}
	if !strings.HasPrefix(err.Error(), `timezone: unknown time zone "Local"`) {
		t.Errorf("Error() = %q", err)
	}
}

func TestAllowedHosts(t *testing.T) {
	c, err := config.Parse([]byte("server:\n  listen: 127.0.0.1:8080\n  allowed_hosts: [quotad.internal, \"quotad.example.com:443\"]\n"), "q.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Server.AllowedHosts; len(got) != 2 || got[0] != "quotad.internal" || got[1] != "quotad.example.com:443" {
		t.Fatalf("allowed_hosts %v", got)
	}
	if _, err := config.Parse([]byte("server:\n  allowed_hosts: quotad.internal\n"), "q.yaml"); err == nil {
		t.Fatal("a single string was accepted as a list")
	}
}
