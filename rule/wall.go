package rule

import "time"

// A wall time is a local date and clock reading of a rule's zone, encoded as
// the seconds since 1970-01-01 00:00:00 of that reading as if it were UTC.
// Rules first find the wall times at which they fire, with plain calendar
// arithmetic, then map each to an instant with resolve.

const (
	secondsPerDay = 86400
	// zoneReach bounds how far a zone's offset may be from UTC. Real
	// offsets stay within ±15h (local mean times included); a day is ample.
	zoneReach = secondsPerDay
)

// resolve returns the first instant (Unix seconds) whose wall clock in loc
// reads w or later. For a wall time that exists once, that is the instant
// itself; for one that exists twice (a fall-back), its first occurrence; for
// one that does not exist (a spring-forward gap), the first instant after the
// gap. resolve is monotone: w1 <= w2 implies resolve(w1) <= resolve(w2).
func resolve(w int64, loc *time.Location) int64 {
	// Walk the zone periods (spans of constant offset) from an instant
	// certainly earlier than the answer. Within a period of offset off that
	// starts at s, the first instant reading w or later is max(s, w-off);
	// the first period where that instant lies inside the period holds the
	// answer.
	u := w - zoneReach
	for range 64 {
		t := time.Unix(u, 0).In(loc)
		_, off := t.Zone()
		start, end := t.ZoneBounds()
		c := w - int64(off)
		if !start.IsZero() && c < start.Unix() {
			c = start.Unix()
		}
		if end.IsZero() || c < end.Unix() {
			return c
		}
		u = end.Unix()
	}
	// Unreachable for real zones (they change offset at most a few times a
	// day); fall back to the reading at the nominal offset.
	_, off := time.Unix(w, 0).In(loc).Zone()
	return w - int64(off)
}

// highWall returns the latest wall time read at or before the instant t:
// the wall clock of t itself or, for an hour or so after a fall-back, the
// reading just before the clocks went back. Every wall time at or before
// highWall resolves at or before t; every later one resolves after t.
func highWall(t time.Time, loc *time.Location) int64 {
	lt := t.In(loc)
	_, off := lt.Zone()
	w := lt.Unix() + int64(off)
	// Only the last reading of a period that ended within two zone reaches
	// before t can be later than t's own reading.
	start, _ := lt.ZoneBounds()
	for !start.IsZero() && start.Unix() > lt.Unix()-2*zoneReach {
		s := start.Unix() - 1
		p := time.Unix(s, 0).In(loc)
		_, off := p.Zone()
		w = max(w, s+int64(off))
		start, _ = p.ZoneBounds()
	}
	return w
}

// floorDiv returns a/b rounded toward negative infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// floorMod returns a - floorDiv(a, b)*b, in [0, b) (b > 0).
func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date; month is 1..12 and day may be any value (it is simply added).
// (Howard Hinnant's algorithm.)
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400 // [0, 399]
	mp := (m + 9) % 12 // March = 0
	doy := int64((153*mp+2)/5 + d - 1)
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y int64, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100) // [0, 365]
	mp := (5*doy + 2) / 153                  // [0, 11]
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// daysIn returns the number of days of a month (1..12) of year y.
func daysIn(y int64, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// weekdayOf returns the weekday (0 = Sunday) of the day z days after
// 1970-01-01, a Thursday.
func weekdayOf(z int64) int { return int(floorMod(z+4, 7)) }

// nextMonth returns the month after (y, m).
func nextMonth(y int64, m int) (int64, int) {
	if m == 12 {
		return y + 1, 1
	}
	return y, m + 1
}

// prevMonth returns the month before (y, m).
func prevMonth(y int64, m int) (int64, int) {
	if m == 1 {
		return y - 1, 12
	}
	return y, m - 1
}
