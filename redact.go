package quotad

import "net/url"

// RedactURL hides what follows the host of a URL - a Slack webhook's path
// is its secret, and a query or user info may hold a token - for texts bound
// for logs, the store and error messages. A URL with nothing after its host
// is returned as is; a text that is not a URL with a host is cut short.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		if len(s) > 12 {
			return s[:12] + "…"
		}
		return s
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return u.Scheme + "://" + u.Host + "/…"
	}
	return s
}
