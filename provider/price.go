package provider

// Price is what one model's tokens cost, in US dollars per million tokens:
// Input for the prompt, Output for the completion.
type Price struct {
	Model  string  `json:"model"`
	Input  float64 `json:"input"`
	Output float64 `json:"output"`
}

// PriceOf returns the price of a model and whether the profile has one.
func (p *Profile) PriceOf(model string) (Price, bool) {
	for _, pr := range p.Prices {
		if pr.Model == model {
			return pr, true
		}
	}
	return Price{}, false
}

// Cost returns what a call's tokens cost at price pr, in US dollars.
func (pr Price) Cost(input, output int64) float64 {
	return (float64(input)*pr.Input + float64(output)*pr.Output) / 1e6
}
