package rule

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/quotad/quotad"
)

// ParseDuration parses a Go duration string, also accepting the unit "d"
// for 24 hours ("1d", "1.5d", "1d12h"), as the config file, the CLI's
// --since and the dashboard's ?since= read durations. A sign is allowed;
// errors wrap quotad.ErrInvalid.
func ParseDuration(s string) (time.Duration, error) {
	bad := func() (time.Duration, error) {
		return 0, fmt.Errorf("%w: invalid duration %q; expected a duration like 30s, 5m, 1h30m or 1d", quotad.ErrInvalid, s)
	}
	rest, neg := s, false
	if rest != "" && (rest[0] == '-' || rest[0] == '+') {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	if rest == "0" {
		return 0, nil
	}
	if rest == "" {
		return bad()
	}
	var total time.Duration
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] == '.' || ('0' <= rest[i] && rest[i] <= '9')) {
			i++
		}
		j := i
		for j < len(rest) && rest[j] != '.' && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		num, unit := rest[:i], rest[i:j]
		if num == "" || unit == "" {
			return bad()
		}
		var part time.Duration
		var err error
		if unit == "d" {
			part, err = time.ParseDuration(num + "h")
			if err == nil && part > math.MaxInt64/24 {
				err = errors.New("overflow")
			}
			part *= 24
		} else {
			part, err = time.ParseDuration(num + unit)
		}
		if err != nil || part < 0 || total > math.MaxInt64-part {
			return bad()
		}
		total += part
		rest = rest[j:]
	}
	if neg {
		total = -total
	}
	return total, nil
}
