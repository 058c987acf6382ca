package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Slack posts to a Slack incoming webhook: {"text": ..., "blocks": [...]},
// the text in the seed's style ("[WARNING] GROQ quota exhausted at ... -
// will auto-resume at ..."), the blocks adding the details.
type Slack struct {
	URL    string
	Client *http.Client // nil = http.DefaultClient
}

// Send implements Sender.
func (s *Slack) Send(ctx context.Context, m Message) error {
	return post(ctx, s.Client, s.URL, SlackPayload(m), nil)
}

// SlackPayload returns the incoming-webhook JSON body of a message.
func SlackPayload(m Message) []byte {
	type text struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	type block struct {
		Type     string `json:"type"`
		Text     *text  `json:"text,omitempty"`
		Elements []text `json:"elements,omitempty"`
	}
	var ctx []string
	for _, kv := range [][2]string{{"kind", m.Kind}, {"api", m.API}, {"window", m.Window}, {"channel", m.Channel}} {
		if kv[1] != "" {
			ctx = append(ctx, kv[0]+": *"+slackEscape(kv[1])+"*")
		}
	}
	ctx = append(ctx, "<!date^"+strconv.FormatInt(m.Time.Unix(), 10)+"^{date_short_pretty} {time_secs}|"+m.Time.UTC().Format("2006-01-02 15:04:05 UTC")+">")
	body := struct {
		Text   string  `json:"text"`
		Blocks []block `json:"blocks"`
	}{
		Text: slackEscape(m.Text()),
		Blocks: []block{
			{Type: "section", Text: &text{Type: "mrkdwn", Text: "*" + slackEscape(tag(m.Level)) + "* " + slackEscape(strings.TrimPrefix(m.Text(), tag(m.Level)+" "))}},
			{Type: "context", Elements: []text{{Type: "mrkdwn", Text: strings.Join(ctx, "  ·  ")}}},
		},
	}
	b, _ := json.Marshal(body)
	return b
}

// slackEscape escapes the three characters Slack's text formatting
// reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
