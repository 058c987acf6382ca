package provider

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// This file reads which model a call used, and which model and window a
// provider's refusal text names: Groq and OpenAI limit each model apart.

// maxModelLen bounds a believable model name.
const maxModelLen = 200

// ModelOfBody returns the "model" of a JSON request or response body
// (chat completions, embeddings, the Responses API), or "" when it has
// none. Only the top-level "model" string counts.
func ModelOfBody(body []byte) string {
	if !bytes.Contains(body, []byte(`"model"`)) {
		return ""
	}
	var d struct {
		Model string `json:"model"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return modelByScan(body)
	}
	return cleanModel(d.Model)
}

// modelRE finds a top-level-looking "model": "…" member in a body that is
// not whole JSON (a stream chunk cut short).
var modelRE = regexp.MustCompile(`"model"\s*:\s*"([^"\\]{1,200})"`)

func modelByScan(body []byte) string {
	if m := modelRE.FindSubmatch(body); m != nil {
		return cleanModel(string(m[1]))
	}
	return ""
}

// cleanModel returns a model name fit for a window key, or "".
func cleanModel(m string) string {
	m = strings.TrimSpace(m)
	if m == "" || len(m) > maxModelLen || strings.ContainsAny(m, " \t\r\n@\"") {
		return ""
	}
	return m
}

// textModelRE finds the model in OpenAI's and Groq's 429 texts: "Rate limit
// reached for model `llama-3.3-70b-versatile` in organization …", "Rate
// limit reached for gpt-4o-mini in organization …".
var textModelRE = regexp.MustCompile("(?i)limit reached for (?:model )?`?([A-Za-z0-9][A-Za-z0-9._:/-]{0,199}?)`? (?:in|on) ")

// ModelInText returns the model a provider's refusal text names, or "".
func ModelInText(text string) string {
	if m := textModelRE.FindStringSubmatch(text); m != nil {
		return cleanModel(m[1])
	}
	return ""
}

// WindowInText returns the window an OpenAI or Groq refusal text names by
// its abbreviation ("on tokens per day (TPD)" → "tpd"), or "".
func WindowInText(text string) string {
	if m := windowAbbrRE.FindStringSubmatch(text); m != nil {
		return strings.ToLower(m[1])
	}
	return ""
}
