package quotad

import "strings"

// ReasonKind is what kind of thing paused a channel.
type ReasonKind string

// Pause reason kinds. Manual, errors and channel_limit have no subject;
// the others name what they wait for.
const (
	KindManual       ReasonKind = "manual"        // set and cleared by a person only
	KindErrors       ReasonKind = "errors"        // consecutive failures; cleared by a person
	KindQuota        ReasonKind = "quota"         // an API, model or bucket ran out; subject: its target, or "?" when unattributed
	KindBudget       ReasonKind = "budget"        // the channel spent its own budget of an API; subject: the API
	KindChannelLimit ReasonKind = "channel_limit" // a provider limit of the channel itself (YouTube's uploadLimitExceeded)
	KindReserve      ReasonKind = "reserve"       // the API is down to the reserve of higher priorities; subject: the API
	KindCapability   ReasonKind = "capability"    // every provider of a fallback need is out; subject: the need
	// KindOther is a reason quotad did not write (a person's sqlite3 edit,
	// a newer version's kind): its subject is the whole text. It ends at
	// its Until, if it has one, and otherwise only by a person.
	KindOther ReasonKind = ""
)

// Reason is why a channel is paused: a kind and what it waits for. It is
// stored as text ("manual", "quota:groq/llama-3.3-70b-versatile",
// "budget:youtube", "capability:llm"): String writes it and ReasonOf reads
// it back, and the two agree on every string.
type Reason struct {
	Kind    ReasonKind
	Subject string
}

// Reasons quotad writes without a subject, and the quota error it could not
// attribute to an API.
var (
	ReasonManual       = Reason{Kind: KindManual}
	ReasonErrors       = Reason{Kind: KindErrors}
	ReasonChannelLimit = Reason{Kind: KindChannelLimit}
	ReasonQuotaUnknown = Reason{Kind: KindQuota, Subject: "?"} // carries an Until and ends then
)

// QuotaReason returns the reason "quota:<target>": "quota:groq",
// "quota:groq/llama-3.3-70b-versatile", "quota:youtube/videos.insert".
func QuotaReason(target string) Reason { return Reason{Kind: KindQuota, Subject: target} }

// BudgetReason returns the reason "budget:<api>".
func BudgetReason(api string) Reason { return Reason{Kind: KindBudget, Subject: api} }

// ReserveReason returns the reason "reserve:<api>".
func ReserveReason(api string) Reason { return Reason{Kind: KindReserve, Subject: api} }

// CapabilityReason returns the reason "capability:<need>".
func CapabilityReason(need string) Reason { return Reason{Kind: KindCapability, Subject: need} }

// hasSubject reports whether reasons of kind k are written "kind:subject".
func (k ReasonKind) hasSubject() bool {
	switch k {
	case KindQuota, KindBudget, KindReserve, KindCapability:
		return true
	}
	return false
}

// String returns the reason as stored.
func (r Reason) String() string {
	switch {
	case r.Kind == KindOther:
		return r.Subject
	case r.Kind.hasSubject():
		return string(r.Kind) + ":" + r.Subject
	}
	return string(r.Kind)
}

// ReasonOf reads a stored reason. Text quotad did not write is a KindOther
// reason holding it whole, so that ReasonOf(s).String() == s for every s.
func ReasonOf(s string) Reason {
	if k, subject, ok := strings.Cut(s, ":"); ok {
		if kind := ReasonKind(k); kind.hasSubject() {
			return Reason{Kind: kind, Subject: subject}
		}
		return Reason{Kind: KindOther, Subject: s}
	}
	switch kind := ReasonKind(s); kind {
	case KindManual, KindErrors, KindChannelLimit:
		return Reason{Kind: kind}
	}
	return Reason{Kind: KindOther, Subject: s}
}

// Target returns the target a quota reason waits for; its API is "" for
// any other reason, including the unattributed quota reason.
func (r Reason) Target() Target {
	if r.Kind != KindQuota || r.Subject == "?" {
		return Target{}
	}
	return ParseTarget(r.Subject)
}

// ByPerson reports whether only a person ends the pause (manual, errors).
func (r Reason) ByPerson() bool { return r.Kind == KindManual || r.Kind == KindErrors }
