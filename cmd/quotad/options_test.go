package main

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/notify"
	"github.com/quotad/quotad/runner"
)

// The config validates the event kinds and notifier types that notify
// knows: the two lists are one.
func TestNotifyKindsAreTheConfigs(t *testing.T) {
	if !slices.Equal(config.EventKinds, notify.Kinds) {
		t.Errorf("config.EventKinds %v, notify.Kinds %v", config.EventKinds, notify.Kinds)
	}
	for _, typ := range [][2]string{{config.NotifierSlack, notify.TypeSlack}, {config.NotifierWebhook, notify.TypeWebhook}, {config.NotifierEmail, notify.TypeEmail}} {
		if typ[0] != typ[1] {
			t.Errorf("config notifier type %q, notify type %q", typ[0], typ[1])
		}
	}
	if time.Duration(config.DefaultNotifyTimeout) != notify.DefaultTimeout || config.DefaultNotifyMaxAttempts != notify.DefaultMaxAttempts {
		t.Error("config and notify disagree on a notifier's defaults")
	}
	if config.DefaultMaxConcurrent != runner.DefaultMaxConcurrent || time.Duration(config.DefaultJobTimeout) != runner.DefaultJobTimeout {
		t.Error("config and runner disagree on the job defaults")
	}
}

// The translation of a notifier carries every setting: each field of
// config.NotifierConfig set to a non-zero value arrives non-zero.
func TestNotifierTranslationCarriesEverySetting(t *testing.T) {
	var n config.NotifierConfig
	v := reflect.ValueOf(&n).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Int, reflect.Int64:
			f.SetInt(7)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"x"}))
		default:
			t.Fatalf("field %s of kind %s: extend this test", v.Type().Field(i).Name, f.Kind())
		}
	}
	got := reflect.ValueOf(notifier(n))
	if got.NumField() != v.NumField() {
		t.Errorf("notify.Notifier has %d fields, config.NotifierConfig %d", got.NumField(), v.NumField())
	}
	for i := range got.NumField() {
		if got.Field(i).IsZero() {
			t.Errorf("notify.Notifier.%s is not translated", got.Type().Field(i).Name)
		}
	}
}

// The translation of a job carries every setting the runner uses.
func TestRunnerJobTranslation(t *testing.T) {
	ch := config.ChannelConfig{Name: "c", Priority: "high", Job: &config.JobConfig{Command: []string{"x"}, Dir: "d",
		Env: map[string]string{"A": "1"}, Schedule: "every 1h", Timeout: config.Duration(time.Minute), Estimate: map[string]int64{"groq": 1}}}
	got := runnerJobs([]config.ChannelConfig{{Name: "none"}, ch})
	want := []runner.Job{{Channel: "c", Priority: "high", Command: []string{"x"}, Dir: "d", Env: map[string]string{"A": "1"},
		Schedule: "every 1h", Timeout: time.Minute, Estimate: map[string]int64{"groq": 1}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("runnerJobs = %+v, want %+v", got, want)
	}
}
