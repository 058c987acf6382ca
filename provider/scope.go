package provider

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"sort"
)

// A credential scope is the account a provider counts a call against
// (Groq's and OpenAI's organization or project, YouTube's Google Cloud
// project): two keys, two sets of windows. A profile recognises the
// credentials the config names by a salted hash (HMAC-SHA-256 under a salt
// drawn when the profile is built); it never keeps the credential.

// credentialHasher hashes credentials under one random salt.
type credentialHasher struct {
	salt   []byte
	scopes map[[sha256.Size]byte]string
	names  []string
}

func (h *credentialHasher) sum(v string) [sha256.Size]byte {
	m := hmac.New(sha256.New, h.salt)
	m.Write([]byte(v))
	var out [sha256.Size]byte
	copy(out[:], m.Sum(nil))
	return out
}

// withScopes returns p recognising the credentials of scopes (scope →
// credential); p itself when there are none.
func (p *Profile) withScopes(scopes map[string]string) *Profile {
	if len(scopes) == 0 {
		return p
	}
	h := &credentialHasher{salt: make([]byte, 32), scopes: map[[sha256.Size]byte]string{}}
	_, _ = rand.Read(h.salt)
	for scope, cred := range scopes {
		h.scopes[h.sum(cred)] = scope
		h.names = append(h.names, scope)
	}
	sort.Strings(h.names)
	p.hasher = h
	return p
}

// ScopeNames returns the credential scopes the profile recognises, sorted.
func (p *Profile) ScopeNames() []string {
	if p.hasher == nil {
		return nil
	}
	return append([]string(nil), p.hasher.names...)
}

// ScopeOf returns the credential scope of a call: the scope whose
// credential the call carries (in its Authorization or API-key header, or
// its key parameter), or "" (the default scope) for a credential the
// config does not name, or none.
func (p *Profile) ScopeOf(r *http.Request) string {
	if p.hasher == nil {
		return ""
	}
	for _, v := range Secrets(r) {
		if s, ok := p.hasher.scopes[p.hasher.sum(v)]; ok {
			return s
		}
	}
	return ""
}
