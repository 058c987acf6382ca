package config_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
)

// badConfigs are documents with one problem each: the line it is on, the
// path named, and a part of the message. FuzzParse uses them as seeds.
var badConfigs = []struct {
	name, yaml string
	line       int
	path, msg  string
}{
	{"syntax", "timezone: UTC\nserver:\n  listen: [\n", 3, "", "invalid YAML: did not find expected node content"},
	{"syntax first line", "\t\tfoo", 1, "", "invalid YAML"},
	{"bad character", "timezone: UTC\ndb: \"a\x01b\"\n", 2, "", "control characters"},
	{"two documents", "timezone: UTC\n---\ntimezone: UTC\n", 3, "", "second YAML document"},
	{"not a mapping", "- groq\n- youtube\n", 1, "", "expected a mapping with the keys timezone, error_threshold, safety_tick"},
	{"unknown top-level key", "timezone: UTC\nerror_treshold: 5\n", 2, "",
		`unknown key "error_treshold"; expected one of: timezone, error_threshold, safety_tick`},
	{"unknown server key", "server:\n  listen: :9090\n  port: 9090\n", 3, "server", `unknown key "port"; expected one of: listen, token`},
	{"unknown window key", "apis:\n  groq:\n    windows:\n      - name: daily\n        limit: 5\n        rest: daily 00:00\n", 6,
		"apis.groq.windows[0]", `unknown key "rest"; expected one of: name, limit, reset`},
	{"unknown job key", "channels:\n  A:\n    apis: [groq]\n    job: {command: x, cron: daily}\n", 4, "channels.A.job", `unknown key "cron"`},
	{"wrong type", "apis:\n  groq:\n    windows:\n      - name: daily\n        limit: lots\n        reset: daily 00:00\n", 5,
		"apis.groq.windows[0].limit", `expected an integer, got "lots"`},
	{"fractional limit", "apis:\n  groq:\n    windows: [{name: daily, limit: 1.5, reset: daily 00:00}]\n", 3,
		"apis.groq.windows[0].limit", "expected an integer, got the number 1.5"},
	{"list item", "apis:\n  g:\n    windows:\n      - lots\n      - {name: d, limit: 0, reset: daily 00:00}\n", 4,
		"apis.g.windows[0]", `expected a mapping with the keys name, limit, reset, meter, got "lots"`},
	{"list for mapping", "apis:\n  - groq\n", 2, "apis", "expected a mapping of API names to their settings, got a list"},
	{"bad auto_resume", "apis:\n  groq:\n    auto_resume: sometimes\n    windows: [{name: d, limit: 1, reset: daily 00:00}]\n", 3,
		"apis.groq.auto_resume", `expected true or false, got "sometimes"`},
	{"bad duration", "timezone: UTC\nsafety_tick: 60\n", 2, "safety_tick", "expected a duration like 30s, 5m, 1h30m or 1d, got the integer 60"},
	{"duplicate key", "apis:\n  groq:\n    unit: a\n    windows: [{name: d, limit: 1, reset: daily 00:00}]\n    unit: b\n", 5,
		"apis.groq", `duplicate key "unit" (first defined at line 3)`},
	{"bad rule", "apis:\n  groq:\n    windows:\n      - {name: daily, limit: 5, reset: \"dayly 00:00\"}\n", 4,
		"apis.groq.windows[0].reset", `rule "dayly 00:00"`},
	{"bad zone", "db: x.db\ntimezone: America/Los_Angles\n", 2, "timezone", `unknown time zone "America/Los_Angles"; expected an IANA zone name`},
	{"unknown API", "channels:\n  RankRiot:\n    apis:\n      - groq\n      - openai\n", 5,
		"channels.RankRiot.apis[1]", `unknown API "openai"; expected one of: groq, youtube, pexels`},
	{"duplicate window", "apis:\n  groq:\n    windows:\n      - {name: daily, limit: 5, reset: daily 00:00}\n      - {name: daily, limit: 9, reset: daily 12:00}\n", 5,
		"apis.groq.windows[1].name", `duplicate window name "daily" (also windows[0])`},
	{"negative limit", "apis:\n  groq:\n    windows:\n      - name: daily\n        limit: -5\n        reset: daily 00:00\n", 5,
		"apis.groq.windows[0].limit", "expected a limit from 1 to 1000000000000000, got -5"},
	{"no windows", "apis:\n  groq:\n    unit: tokens\n", 2, "apis.groq.windows", "no windows"},
	{"bad API name", "apis:\n  Groq:\n    windows: [{name: d, limit: 1, reset: daily 00:00}]\n", 2, "apis.Groq", `invalid API name "Groq"`},
	{"empty apis", "apis: {}\n", 1, "apis", "no APIs configured"},
	{"bad priority", "channels:\n  A:\n    apis: [groq]\n    priority: urgent\n", 4, "channels.A.priority", `unknown priority "urgent"; expected low, normal or high`},
	{"channel without APIs", "channels:\n  A:\n    priority: low\n", 2, "channels.A.apis", "no APIs"},
	{"estimate for an API not needed", "channels:\n  A:\n    apis: [groq]\n    job:\n      command: [./run]\n      estimate:\n        groq: 10\n        pexels: 3\n", 8,
		"channels.A.job.estimate.pexels", `"pexels" is not an API this channel needs; expected one of: groq`},
	{"negative estimate", "channels:\n  A:\n    apis: [groq]\n    job: {command: [./run], estimate: {groq: -1}}\n", 4,
		"channels.A.job.estimate.groq", "got -1"},
	{"bad job schedule", "channels:\n  A:\n    apis: [groq]\n    job:\n      command: ./run\n      schedule: every now and then\n", 6,
		"channels.A.job.schedule", `"every now and then"`},
	{"empty command", "channels:\n  A:\n    apis: [groq]\n    job:\n      command: []\n", 5, "channels.A.job.command", "empty command"},
	{"command mapping", "channels:\n  A:\n    apis: [groq]\n    job:\n      command: {run: x}\n", 5, "channels.A.job.command",
		`expected a command: a list like ["python3", "make_video.py"] or a string run with sh -c, got a mapping`},
	{"short timeout", "channels:\n  A:\n    apis: [groq]\n    job: {command: x, timeout: 10ms}\n", 4, "channels.A.job.timeout", "at least 1s, got 10ms"},
	{"bad listen", "server:\n  listen: localhost\n", 2, "server.listen", `invalid address "localhost"; expected host:port`},
	{"bad port", "server:\n  listen: \":99999\"\n", 2, "server.listen", `invalid port "99999"`},
	{"threshold range", "error_threshold: 0\n", 1, "error_threshold", "expected a number of errors from 1 to 100000, got 0"},
	{"bad durability", "timezone: UTC\ndurability: fsync\n", 2, "durability", `expected crash (survives a crash; the default) or power (survives a power loss too), got "fsync"`},
	{"empty durability", "durability: \"\"\n", 1, "durability", `got ""`},
	{"poll range", "poll_interval: 5m\n", 1, "poll_interval", "expected a duration from 100ms to 1m, got 5m"},
	{"store timeout range", "store:\n  timeout: 2m\n", 2, "store.timeout", "expected a duration from 100ms to 1m, got 2m"},
	{"safety tick range", "safety_tick: 0s\n", 1, "safety_tick", "at least 1s, got 0s"},
	{"max_concurrent range", "runner:\n  max_concurrent: 0\n", 2, "runner.max_concurrent", "from 1 to 10000, got 0"},
	{"quoted channel name", "channels:\n  \"Rank Riot\":\n    apis: [groq]\n    priority: top\n", 4, `channels["Rank Riot"].priority`, `unknown priority "top"`},
}

func TestParseErrors(t *testing.T) {
	for _, tt := range badConfigs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tt.yaml), "quotad.yaml")
			if !errors.Is(err, quotad.ErrInvalid) {
				t.Fatalf("Parse() error = %v, want one wrapping ErrInvalid", err)
			}
			var ve *config.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse() error %T is not a *ValidationError", err)
			}
			if len(ve.Errors) != 1 {
				t.Fatalf("got %d problems, want 1:\n%v", len(ve.Errors), err)
			}
			fe := ve.Errors[0]
			if fe.Line != tt.line || fe.Path != tt.path || !strings.Contains(fe.Message, tt.msg) {
				t.Errorf("got line %d path %q message %q\nwant line %d path %q message containing %q", fe.Line, fe.Path, fe.Message, tt.line, tt.path, tt.msg)
			}
			prefix := "quotad.yaml:" + strconv.Itoa(tt.line) + ": "
			if !strings.HasPrefix(err.Error(), prefix) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Error() = %q, want one line starting with %q", err, prefix)
			}
		})
	}
}

func TestParseReportsAllErrors(t *testing.T) {
	const doc = `timezone: UTC
colour: blue
apis:
  groq:
    windows:
      - {name: daily, limit: 100, reset: "dayly 00:00"}
channels:
  RankRiot:
    apis: [groq, youtube]
`
	_, err := config.Parse([]byte(doc), "quotad.yaml")
	want := `quotad.yaml:2: unknown key "colour"; expected one of: timezone, error_threshold, safety_tick, poll_interval, db, durability, server, runner, store, apis, channels
quotad.yaml:6: apis.groq.windows[0].reset: rule "dayly 00:00"
quotad.yaml:9: channels.RankRiot.apis[1]: unknown API "youtube"; expected one of: groq`
	lines := strings.Split(err.Error(), "\n")
	wantLines := strings.Split(want, "\n")
	if len(lines) != len(wantLines) {
		t.Fatalf("Parse() error =\n%v\nwant 3 lines like\n%s", err, want)
	}
	for i := range lines {
		if !strings.HasPrefix(lines[i], wantLines[i]) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], wantLines[i])
		}
	}
}

func TestParseDecodeErrorHidesValidation(t *testing.T) {
	// limit fails to decode: no second message about its range.
	_, err := config.Parse([]byte("apis:\n  groq:\n    windows: [{name: d, limit: lots, reset: daily 00:00}]\n"), "q.yaml")
	var ve *config.ValidationError
	if !errors.As(err, &ve) || len(ve.Errors) != 1 {
		t.Fatalf("Parse() = %v", err)
	}
}

func TestAPIsReplaceDefaults(t *testing.T) {
	names := func(c config.Config) (apis, channels []string) {
		for _, a := range c.APIs {
			apis = append(apis, a.Name)
		}
		for _, ch := range c.Channels {
			channels = append(channels, ch.Name)
		}
		return apis, channels
	}
	tests := []struct {
		name, yaml        string
		apis, channels    []string
		wantAPI           config.APIConfig
		wantAPIFromConfig string
	}{
		{"absent keeps defaults", "timezone: UTC\n", []string{"groq", "youtube", "pexels"}, nil, config.APIConfig{}, ""},
		{"null keeps defaults", "apis:\n# groq: ...\n", []string{"groq", "youtube", "pexels"}, nil, config.APIConfig{}, ""},
		{"present replaces, in document order", `apis:
  zeta:
    windows: [{name: daily, limit: 5, reset: daily 00:00}]
  openai:
    unit: tokens
    keywords: [OpenAI, GPT]
    auto_resume: false
    windows:
      - {name: per-minute, limit: 90000, reset: every 1m}
      - {name: daily, limit: 1000000, reset: "daily 00:00 UTC"}
  alpha:
    windows: [{name: daily, limit: 5, reset: daily 00:00}]
channels:
  Zed: {apis: [zeta]}
  Bee: {apis: [openai, alpha], priority: high}
  Aye: {apis: [alpha], priority: low}
`, []string{"zeta", "openai", "alpha"}, []string{"Zed", "Bee", "Aye"}, config.APIConfig{
			Name: "openai", Unit: "tokens", Keywords: []string{"openai", "gpt"}, AutoResume: false,
			Windows: []config.WindowConfig{{Name: "per-minute", Limit: 90000, Reset: "every 1m"}, {Name: "daily", Limit: 1000000, Reset: "daily 00:00 UTC"}},
		}, "openai"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse([]byte(tt.yaml), "quotad.yaml")
			if err != nil {
				t.Fatal(err)
			}
			apis, channels := names(c)
			if !reflect.DeepEqual(apis, tt.apis) || !reflect.DeepEqual(channels, tt.channels) {
				t.Errorf("APIs %v channels %v, want %v %v", apis, channels, tt.apis, tt.channels)
			}
			if tt.wantAPIFromConfig == "" {
				return
			}
			if a, _ := c.API(tt.wantAPIFromConfig); !reflect.DeepEqual(a, tt.wantAPI) {
				t.Errorf("API = %+v, want %+v", a, tt.wantAPI)
			}
			if a, _ := c.API("zeta"); a.Unit != "units" || !a.AutoResume {
				t.Errorf("zeta defaults: %+v", a)
			}
			_, chans := c.Domain()
			prios := []quotad.Priority{chans[0].Priority, chans[1].Priority, chans[2].Priority}
			if want := []quotad.Priority{"normal", "high", "low"}; !reflect.DeepEqual(prios, want) {
				t.Errorf("priorities %v, want %v", prios, want)
			}
		})
	}
}

func TestJobCommand(t *testing.T) {
	tests := []struct {
		name, command string
		argv          []string
		shell         bool
	}{
		{"list", `["python3", "make_video.py", "--fast"]`, []string{"python3", "make_video.py", "--fast"}, false},
		{"block list", "\n        - ./run\n        - 7", []string{"./run", "7"}, false},
		{"string", `"python3 make_video.py && echo done"`, []string{"sh", "-c", "python3 make_video.py && echo done"}, true},
		{"plain string", `./run.sh`, []string{"sh", "-c", "./run.sh"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "channels:\n  A:\n    apis: [groq]\n    job:\n      command: " + tt.command + "\n"
			c, err := config.Parse([]byte(doc), "quotad.yaml")
			if err != nil {
				t.Fatal(err)
			}
			j := c.Channels[0].Job
			if !reflect.DeepEqual(j.Command, tt.argv) || j.Shell != tt.shell {
				t.Errorf("command %q shell %v, want %q %v", j.Command, j.Shell, tt.argv, tt.shell)
			}
			if j.Timeout != config.DefaultJobTimeout || j.Schedule != "" || j.Dir != "" {
				t.Errorf("job defaults: %+v", j)
			}
		})
	}
}

func TestScheduleCanonical(t *testing.T) {
	doc := "timezone: Europe/Berlin\nchannels:\n  A:\n    apis: [groq]\n    job: {command: x, schedule: daily 06:30}\n"
	c, err := config.Parse([]byte(doc), "quotad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Channels[0].Job.Schedule, canonical(t, "daily 06:30", "Europe/Berlin"); got != want {
		t.Errorf("Schedule = %q, want %q", got, want)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	_, err := config.Load(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, quotad.ErrInvalid) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	path := filepath.Join(dir, "quotad.yaml")
	if err := os.WriteFile(path, []byte("timezone: UTC\nerror_threshold: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = config.Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":2: error_threshold: ") {
		t.Errorf("Load(bad) = %v", err)
	}
	if err := os.WriteFile(path, []byte(config.Example), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := config.Load(path); err != nil || len(c.Channels) != 1 {
		t.Errorf("Load(example) = %+v, %v", c, err)
	}
}

func TestParseOddButValid(t *testing.T) {
	tests := []struct{ name, yaml, timezone string }{
		{"empty", "", "America/Los_Angeles"},
		{"comments only", "# nothing yet\n", "America/Los_Angeles"},
		{"null document", "~\n", "America/Los_Angeles"},
		{"document marker", "---\ntimezone: UTC\n...\n", "UTC"},
		{"trailing empty document", "timezone: UTC\n---\n# end\n", "UTC"},
		{"byte order mark", "\ufefftimezone: UTC\n", "UTC"},
		{"empty values keep defaults", "timezone:\nsafety_tick:\nserver:\n  # listen: :80\nrunner:\nchannels:\n", "America/Los_Angeles"},
		{"CRLF", "timezone: UTC\r\nserver:\r\n  listen: :9000\r\n", "UTC"},
		{"anchors", "apis:\n  a: &w\n    windows: [{name: d, limit: 1, reset: daily 00:00}]\n  b: *w\nchannels:\n  X: {apis: [a, b]}\n", "America/Los_Angeles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse([]byte(tt.yaml), "quotad.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if c.Timezone != tt.timezone || c.SafetyTick != config.DefaultSafetyTick || c.Runner.MaxConcurrent != 4 || c.Server.Listen == "" {
				t.Errorf("got %+v", c)
			}
		})
	}
}

func TestParseDurability(t *testing.T) {
	for doc, want := range map[string]string{
		"":                    config.DurabilityCrash,
		"durability:\n":       config.DurabilityCrash,
		"durability: crash\n": config.DurabilityCrash,
		"durability: power\n": config.DurabilityPower,
	} {
		c, err := config.Parse([]byte(doc), "quotad.yaml")
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if c.Durability != want {
			t.Errorf("%q: durability %q, want %q", doc, c.Durability, want)
		}
	}
}
