package rule

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// cronSpec is a parsed five-field cron expression: one bit set per value
// that each field matches.
type cronSpec struct {
	minute  uint64 // bits 0..59
	hour    uint32 // bits 0..23
	dom     uint32 // bits 1..31
	month   uint16 // bits 1..12
	dow     uint8  // bits 0..6, Sunday = 0
	domStar bool   // the day-of-month field starts with * (Vixie cron's rule)
	dowStar bool   // the day-of-week field starts with *
	expr    string // canonical text: the fields, lower-cased, one space apart
}

// maxMonths bounds every search: the Gregorian calendar repeats every 400
// years, so a day that exists at all exists within that span.
const maxMonths = 400*12 + 13

// cronField describes one of the five fields.
type cronField struct {
	name     string
	min, max int
	names    map[string]int // value names (month, day-of-week), lower-case
	expected string         // what a value may be, for error messages
}

var cronFields = [5]cronField{
	{name: "minute", min: 0, max: 59, expected: "0-59"},
	{name: "hour", min: 0, max: 23, expected: "0-23"},
	{name: "day-of-month", min: 1, max: 31, expected: "1-31"},
	{name: "month", min: 1, max: 12, expected: "1-12 or jan..dec", names: map[string]int{
		"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	}},
	{name: "day-of-week", min: 0, max: 7, expected: "0-7 (0 and 7 are Sunday) or sun..sat", names: map[string]int{
		"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
	}},
}

// cronDescriptors are the @ forms and what they stand for.
var cronDescriptors = map[string]string{
	"@hourly":   "0 * * * *",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@weekly":   "0 0 * * 0",
	"@monthly":  "0 0 1 * *",
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
}

const cronWant = "expected 5 fields (minute hour day-of-month month day-of-week) or one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually"

// parseCron parses the expression inside the quotes of a cron rule.
func parseCron(expr string) (cronSpec, string) {
	fields := strings.Fields(expr)
	var c cronSpec
	if len(fields) == 1 && strings.HasPrefix(fields[0], "@") {
		d := lower(fields[0])
		std, ok := cronDescriptors[d]
		if !ok {
			return c, fmt.Sprintf("unknown cron descriptor %q; %s", fields[0], cronWant)
		}
		c, _ = parseCron(std)
		c.expr = d
		return c, ""
	}
	if len(fields) != 5 {
		return c, fmt.Sprintf("cron expression %q has %d fields; %s", expr, len(fields), cronWant)
	}
	var masks [5]uint64
	for i, f := range fields {
		f = lower(f)
		m, msg := cronFields[i].parse(f)
		if msg != "" {
			return c, fmt.Sprintf("bad %s field %q: %s", cronFields[i].name, fields[i], msg)
		}
		masks[i], fields[i] = m, f
	}
	if masks[4]&(1<<7) != 0 { // 7 is Sunday too
		masks[4] = masks[4]&^(1<<7) | 1
	}
	c = cronSpec{
		minute:  masks[0],
		hour:    uint32(masks[1]),
		dom:     uint32(masks[2]),
		month:   uint16(masks[3]),
		dow:     uint8(masks[4]),
		domStar: strings.HasPrefix(fields[2], "*"),
		dowStar: strings.HasPrefix(fields[4], "*"),
		expr:    strings.Join(fields, " "),
	}
	if !c.canMatch() {
		return c, fmt.Sprintf("cron expression %q never matches: no month it names has any day of the month it names", expr)
	}
	return c, ""
}

// parse parses one field (lower-case) into a bit set.
func (f cronField) parse(s string) (uint64, string) {
	var set uint64
	for _, item := range strings.Split(s, ",") {
		if item == "" {
			return 0, "empty list item; expected values separated by single commas"
		}
		base, stepText, hasStep := strings.Cut(item, "/")
		var lo, hi int
		var msg string
		switch a, b, isRange := strings.Cut(base, "-"); {
		case base == "*":
			lo, hi = f.min, f.max
		case isRange:
			if lo, msg = f.value(a, false); msg != "" {
				return 0, msg
			}
			if hi, msg = f.value(b, true); msg != "" {
				return 0, msg
			}
			if lo > hi {
				return 0, fmt.Sprintf("range %s runs backwards", base)
			}
		default:
			if lo, msg = f.value(base, false); msg != "" {
				return 0, msg
			}
			hi = lo
			if hasStep { // N/S means N-max/S
				hi = f.max
			}
		}
		step := 1
		if hasStep {
			n := f.max - f.min + 1
			if len(stepText) > 3 || !digits(stepText) {
				return 0, fmt.Sprintf("bad step %q; expected a number 1-%d", stepText, n)
			}
			step, _ = strconv.Atoi(stepText)
			if step < 1 || step > n {
				return 0, fmt.Sprintf("step %d is out of range 1-%d", step, n)
			}
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << v
		}
	}
	return set, ""
}

// value parses a number or a name of the field. A Sunday that ends a range
// is 7, so that fri-sun means 5-7.
func (f cronField) value(s string, rangeEnd bool) (int, string) {
	if v, ok := f.names[s]; ok {
		if rangeEnd && f.name == "day-of-week" && v == 0 {
			v = 7
		}
		return v, ""
	}
	if len(s) > 4 || !digits(s) {
		if s == "" {
			return 0, "missing value; expected " + f.expected
		}
		return 0, fmt.Sprintf("%q is not a value; expected %s", s, f.expected)
	}
	v, _ := strconv.Atoi(s)
	if v < f.min || v > f.max {
		return 0, fmt.Sprintf("%d is out of range %d-%d", v, f.min, f.max)
	}
	return v, ""
}

// canMatch reports whether some day of some year matches. Days matching
// the day-of-week field exist in every month; when that field alone does
// not decide (Vixie's rule), some month must have one of the days of the
// month.
func (c *cronSpec) canMatch() bool {
	if !c.domStar && !c.dowStar {
		return true // either field may match, and some weekday always does
	}
	for m := 1; m <= 12; m++ {
		days := uint32(1)<<(daysIn(2000, m)+1) - 2 // a leap year
		if c.month&(1<<m) != 0 && c.dom&days != 0 {
			return true
		}
	}
	return false
}

// dayMask returns the days (bits 1..31) of month m of year y that match.
func (c *cronSpec) dayMask(y int64, m int) uint64 {
	n := daysIn(y, m)
	wd := weekdayOf(daysFromCivil(y, m, 1))
	var dw uint64
	for d := 1; d <= n; d++ {
		if c.dow&(1<<wd) != 0 {
			dw |= 1 << d
		}
		if wd++; wd == 7 {
			wd = 0
		}
	}
	dom := uint64(c.dom) & (1<<(n+1) - 2)
	if c.domStar || c.dowStar {
		return dom & dw
	}
	return dom | dw
}

// after returns the first wall time the expression names strictly after w.
func (c *cronSpec) after(w int64) (int64, bool) {
	mi := floorDiv(w, 60) + 1
	day := floorDiv(mi, 1440)
	h, m := int(mi-day*1440)/60, int(mi-day*1440)%60
	y, mon, d := civilFromDays(day)
	for range maxMonths {
		if c.month&(1<<mon) != 0 {
			days := c.dayMask(y, mon)
			for {
				dd := nextBit(days, d)
				if dd < 0 {
					break
				}
				if dd > d {
					h, m = 0, 0
				}
				if hh, mm, ok := c.firstTime(h, m); ok {
					return wallOf(y, mon, dd, hh, mm), true
				}
				d, h, m = dd+1, 0, 0
			}
		}
		y, mon = nextMonth(y, mon)
		d, h, m = 1, 0, 0
	}
	return 0, false
}

// atOrBefore returns the last wall time the expression names at or before
// w.
func (c *cronSpec) atOrBefore(w int64) (int64, bool) {
	mi := floorDiv(w, 60)
	day := floorDiv(mi, 1440)
	h, m := int(mi-day*1440)/60, int(mi-day*1440)%60
	y, mon, d := civilFromDays(day)
	for range maxMonths {
		if c.month&(1<<mon) != 0 {
			days := c.dayMask(y, mon)
			for {
				dd := prevBit(days, d)
				if dd < 0 {
					break
				}
				if dd < d {
					h, m = 23, 59
				}
				if hh, mm, ok := c.lastTime(h, m); ok {
					return wallOf(y, mon, dd, hh, mm), true
				}
				d, h, m = dd-1, 23, 59
			}
		}
		y, mon = prevMonth(y, mon)
		d, h, m = daysIn(y, mon), 23, 59
	}
	return 0, false
}

// firstTime returns the first hour and minute at or after h:m that the
// expression names, if any that day.
func (c *cronSpec) firstTime(h, m int) (int, int, bool) {
	hh := nextBit(uint64(c.hour), h)
	if hh < 0 {
		return 0, 0, false
	}
	if hh == h {
		if mm := nextBit(c.minute, m); mm >= 0 {
			return hh, mm, true
		}
		if hh = nextBit(uint64(c.hour), h+1); hh < 0 {
			return 0, 0, false
		}
	}
	return hh, nextBit(c.minute, 0), true
}

// lastTime returns the last hour and minute at or before h:m that the
// expression names, if any that day.
func (c *cronSpec) lastTime(h, m int) (int, int, bool) {
	hh := prevBit(uint64(c.hour), h)
	if hh < 0 {
		return 0, 0, false
	}
	if hh == h {
		if mm := prevBit(c.minute, m); mm >= 0 {
			return hh, mm, true
		}
		if hh = prevBit(uint64(c.hour), h-1); hh < 0 {
			return 0, 0, false
		}
	}
	return hh, prevBit(c.minute, 59), true
}

// wallOf returns the wall time of a date and a clock reading.
func wallOf(y int64, mon, d, h, m int) int64 {
	return daysFromCivil(y, mon, d)*secondsPerDay + int64(h*3600+m*60)
}

// nextBit returns the lowest set bit of set at or above from, or -1.
func nextBit(set uint64, from int) int {
	if from >= 64 {
		return -1
	}
	if set >>= from; set == 0 {
		return -1
	}
	return from + bits.TrailingZeros64(set)
}

// prevBit returns the highest set bit of set at or below upto, or -1.
func prevBit(set uint64, upto int) int {
	if upto < 0 {
		return -1
	}
	if upto < 63 {
		set &= 1<<(upto+1) - 1
	}
	if set == 0 {
		return -1
	}
	return 63 - bits.LeadingZeros64(set)
}
