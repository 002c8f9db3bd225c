package vc

import (
	"fmt"
	"time"
)

// ParseDateTimeStamp parses an XML Schema 1.1 dateTimeStamp: a dateTime with
// a mandatory timezone, as VC Data Model 2.0 requires for validFrom and
// validUntil ("2023-02-25T19:10:39-06:00", "2023-02-26T01:02:58.447Z").
func ParseDateTimeStamp(s string) (time.Time, error) {
	return parseXSDDateTime(s, true)
}

// ParseDateTime parses an XML Schema 1.1 dateTime, as VC Data Model 1.1
// requires for issuanceDate and expirationDate. The timezone is optional
// there; a value without one is taken as UTC, because a verifier must pick
// one instant and UTC is what issuers that omit it mean in practice.
func ParseDateTime(s string) (time.Time, error) {
	return parseXSDDateTime(s, false)
}

// parseXSDDateTime implements the lexical space of XML Schema 1.1 Part 2
// §3.3.7 dateTime:
//
//	-?YYYY+-MM-DDThh:mm:ss(.s+)?(Z|(+|-)hh:mm)?
//
// time.Parse(time.RFC3339) is not used: it accepts neither years beyond 9999
// nor 24:00:00, and it accepts hours like "1" in some layouts. Years may have
// more than four digits (no leading zero then) up to nine, which keeps the
// value inside time.Time's range. Fractions beyond nanoseconds are truncated.
func parseXSDDateTime(s string, needZone bool) (time.Time, error) {
	bad := func(why string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("%w: %q: %s", ErrDateTime, s, why)
	}
	if len(s) > 64 {
		return bad("too long")
	}
	i := 0
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	yd := i - start
	if yd < 4 {
		return bad("year needs at least four digits")
	}
	if yd > 9 {
		return bad("year has more than nine digits")
	}
	if yd > 4 && s[start] == '0' {
		return bad("year of more than four digits has a leading zero")
	}
	year := atoi(s[start:i])
	if neg {
		year = -year
	}
	num2 := func(sep byte) (int, bool) {
		if i >= len(s) || s[i] != sep || i+3 > len(s) || !isDigit(s[i+1]) || !isDigit(s[i+2]) {
			return 0, false
		}
		v := atoi(s[i+1 : i+3])
		i += 3
		return v, true
	}
	month, ok := num2('-')
	if !ok || month < 1 || month > 12 {
		return bad("bad month")
	}
	day, ok := num2('-')
	if !ok || day < 1 || day > daysIn(year, month) {
		return bad("bad day")
	}
	hour, ok := num2('T')
	if !ok || hour > 24 {
		return bad("bad hour")
	}
	minute, ok := num2(':')
	if !ok || minute > 59 {
		return bad("bad minute")
	}
	sec, ok := num2(':')
	if !ok || sec > 59 {
		return bad("bad second")
	}
	nsec := 0
	fracNonZero := false
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && isDigit(s[i]) {
			d := int(s[i] - '0')
			if i-fs < 9 {
				nsec = nsec*10 + d
			}
			if d != 0 {
				fracNonZero = true
			}
			i++
		}
		nd := i - fs
		if nd == 0 {
			return bad("empty fraction")
		}
		for k := nd; k < 9; k++ {
			nsec *= 10
		}
	}
	if hour == 24 && (minute != 0 || sec != 0 || fracNonZero) {
		return bad("24:00:00 is the only time with hour 24")
	}
	loc := time.UTC
	switch {
	case i == len(s):
		if needZone {
			return bad("timezone required")
		}
	case s[i] == 'Z':
		i++
	case s[i] == '+' || s[i] == '-':
		sign := 1
		if s[i] == '-' {
			sign = -1
		}
		if i+6 != len(s) || !isDigit(s[i+1]) || !isDigit(s[i+2]) || s[i+3] != ':' || !isDigit(s[i+4]) || !isDigit(s[i+5]) {
			return bad("bad timezone")
		}
		th, tm := atoi(s[i+1:i+3]), atoi(s[i+4:i+6])
		if tm > 59 || th > 14 || (th == 14 && tm != 0) {
			return bad("timezone out of range")
		}
		loc = time.FixedZone("", sign*(th*3600+tm*60))
		i += 6
	default:
		return bad("unexpected character after time")
	}
	if i != len(s) {
		return bad("trailing characters")
	}
	// time.Date normalises hour 24 to 00:00 of the next day, which is what
	// XML Schema says it means.
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// daysIn uses the proleptic Gregorian calendar, as XML Schema does.
func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
