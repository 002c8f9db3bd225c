package vc

import (
	"errors"
	"testing"
	"time"
)

func TestParseDateTimeStamp(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2023-02-26T01:02:58Z", utc(2023, 2, 26, 1, 2, 58, 0)},
		{"2023-02-26T01:02:58.447Z", utc(2023, 2, 26, 1, 2, 58, 447e6)},
		{"2023-02-25T19:10:39-06:00", utc(2023, 2, 26, 1, 10, 39, 0)},
		{"2023-02-26T06:40:39+05:30", utc(2023, 2, 26, 1, 10, 39, 0)},
		{"2023-02-26T01:02:58.1234567891Z", utc(2023, 2, 26, 1, 2, 58, 123456789)},
		{"4023-02-26T01:02:58.447Z", utc(4023, 2, 26, 1, 2, 58, 447e6)},
		{"12023-02-26T01:02:58Z", utc(12023, 2, 26, 1, 2, 58, 0)},
		{"-0044-03-15T12:00:00Z", utc(-44, 3, 15, 12, 0, 0, 0)},
		{"2024-02-29T00:00:00Z", utc(2024, 2, 29, 0, 0, 0, 0)},
		{"2023-12-31T24:00:00Z", utc(2024, 1, 1, 0, 0, 0, 0)},
		{"2023-12-31T24:00:00.000Z", utc(2024, 1, 1, 0, 0, 0, 0)},
		{"2023-01-01T00:00:00+14:00", utc(2022, 12, 31, 10, 0, 0, 0)},
		{"2023-01-01T00:00:00-00:00", utc(2023, 1, 1, 0, 0, 0, 0)},
	}
	for _, tt := range tests {
		got, err := ParseDateTimeStamp(tt.in)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseDateTimeStamp(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseDateTimeInvalid(t *testing.T) {
	for _, in := range []string{
		"",
		"2023-02-26",
		"2023-02-26T01:02:58",        // no timezone: not a dateTimeStamp
		"2023-02-26 01:02:58Z",       // space for T
		"2023-02-26t01:02:58Z",       // lower-case t
		"2023-02-26T01:02:58z",       // lower-case z
		"23-02-26T01:02:58Z",         // two-digit year
		"02023-02-26T01:02:58Z",      // leading zero in a long year
		"2023-2-26T01:02:58Z",        // one-digit month
		"2023-13-01T00:00:00Z",       // month 13
		"2023-00-01T00:00:00Z",       // month 0
		"2023-02-29T00:00:00Z",       // not a leap year
		"2023-04-31T00:00:00Z",       // April has 30 days
		"2023-02-26T25:00:00Z",       // hour 25
		"2023-02-26T24:00:01Z",       // only 24:00:00
		"2023-02-26T24:00:00.5Z",     // only 24:00:00
		"2023-02-26T01:60:00Z",       // minute 60
		"2023-02-26T01:02:60Z",       // leap seconds are not in XML Schema
		"2023-02-26T01:02:58.Z",      // empty fraction
		"2023-02-26T01:02:58+0600",   // offset without colon
		"2023-02-26T01:02:58+15:00",  // offset beyond 14:00
		"2023-02-26T01:02:58+14:30",  // 14:xx other than 14:00
		"2023-02-26T01:02:58+05:60",  // offset minutes 60
		"2023-02-26T01:02:58ZZ",      // trailing
		"2023-02-26T01:02:58Z ",      // trailing space
		"1234567890-01-01T00:00:00Z", // ten-digit year
		"Sat 25 Feb 2023 07:16:31 PM CST",
		"Sun, 26 Feb 2023 01:22:14 +0000",
		"FUTURE DATE",
	} {
		if got, err := ParseDateTimeStamp(in); !errors.Is(err, ErrDateTime) {
			t.Errorf("ParseDateTimeStamp(%q) = %v, %v; want ErrDateTime", in, got, err)
		}
	}
}

// TestParseDateTimeNoZone: VC 1.1 dates may omit the timezone (UTC then).
func TestParseDateTimeNoZone(t *testing.T) {
	got, err := ParseDateTime("2010-01-01T19:23:24")
	if want := time.Date(2010, 1, 1, 19, 23, 24, 0, time.UTC); err != nil || !got.Equal(want) {
		t.Errorf("ParseDateTime = %v, %v; want %v", got, err, want)
	}
	if _, err := ParseDateTime("2010-01-01T19:23:24+01:00"); err != nil {
		t.Errorf("with a zone: %v", err)
	}
}
