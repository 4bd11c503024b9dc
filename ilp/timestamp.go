package ilp

import (
	"errors"
	"fmt"
	"time"
)

// Timestamps (expiresAt, triggeredAt) are OER strings in the one
// GeneralizedTime form ilp-packet 1.x wrote: Date.toISOString() without its
// '-', 'T' and ':', always with three millisecond digits, 19 bytes, such as
// "20170324020016.160Z". (RFC 0030 of 2018 later dropped trailing zeros; 2017
// peers need all three digits.)
//
// What 2017 read, and what this codec reads:
//
//   - Text matching YYYYMMDDHHMMSS.mmmZ became "YYYY-MM-DDTHH:MM:SS.mmmZ" for
//     JavaScript's Date. V8 took month 01-12, day 01-31 whatever the month
//     (day 31 of April is May 1st), hour 00-23 or 24 with zero minutes,
//     seconds and milliseconds (the next midnight), minutes and seconds
//     00-59, any year 0000-9999. This codec accepts exactly that, rolling
//     over the same way, and keeps text that is not the canonical rendering
//     of its time in Wire.Time so that it re-encodes unchanged.
//   - 2017 read the bytes as ASCII the Node.js way, dropping each byte's
//     high bit (0xb2 was '2'); so does this codec, keeping such text in
//     Wire.Time.
//   - 2017 then refused any time whose millisecond value is 0 (its validity
//     test was `!date.valueOf()`), that is 19700101000000.000Z. Refused here
//     too, and never written.
//   - Text not matching the pattern went to Date's free-form parser, whose
//     results depend on the JavaScript engine: V8 read "2017", "March 7,
//     2017", and even digits cut short by a NUL byte or a '(' (a comment to
//     it). No 2017 writer produced such text; it is refused here as
//     malformed. This is the one place where this codec refuses what 2017
//     read, beside the five- and six-byte length forms (see oer.go).

const timeLen = len("20060102150405.000Z")

// Sentinel errors for packets that cannot be encoded.
var (
	ErrTimeRange   = errors.New("time not representable")
	ErrCurveLength = errors.New("liquidity curve length not a multiple of 16")
	ErrCodeLength  = errors.New("error code not 3 bytes")
)

func encodeError(t Type, field string, err error, detail string) error {
	if detail == "" {
		return fmt.Errorf("ilp: encoding %s: %s: %w", t, field, err)
	}
	return fmt.Errorf("ilp: encoding %s: %s: %w: %s", t, field, err, detail)
}

// parseTime reads timestamp text. canonical reports whether the text is the
// one the encoder would write for the result; reason says what is wrong when
// ok is false.
func parseTime(p []byte) (t time.Time, canonical, ok bool, reason string) {
	if len(p) != timeLen {
		return t, false, false, fmt.Sprintf("%d bytes, want %d (YYYYMMDDHHMMSS.mmmZ)", len(p), timeLen)
	}
	// Node.js's 'ascii' decoding, which 2017 read the text with, drops the
	// high bit of every byte, so 0xb2 was read as '2'.
	var text [timeLen]byte
	for i, c := range p {
		c &= 0x7f
		text[i] = c
		switch i {
		case 14:
			if c != '.' {
				return t, false, false, "no '.' before the milliseconds"
			}
		case 18:
			if c != 'Z' {
				return t, false, false, "does not end in 'Z'"
			}
		default:
			if c < '0' || c > '9' {
				return t, false, false, fmt.Sprintf("non-digit at byte %d", i)
			}
		}
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range text[i : i+n] {
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(4, 2), num(6, 2)
	hour, minute, sec, ms := num(8, 2), num(10, 2), num(12, 2), num(15, 3)
	switch {
	case month < 1 || month > 12:
		return t, false, false, fmt.Sprintf("month %02d", month)
	case day < 1 || day > 31:
		return t, false, false, fmt.Sprintf("day %02d", day)
	case hour > 24 || hour == 24 && (minute != 0 || sec != 0 || ms != 0):
		return t, false, false, fmt.Sprintf("hour %02d:%02d:%02d.%03d", hour, minute, sec, ms)
	case minute > 59:
		return t, false, false, fmt.Sprintf("minute %02d", minute)
	case sec > 59:
		return t, false, false, fmt.Sprintf("second %02d", sec)
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, ms*int(time.Millisecond), time.UTC)
	if t.UnixMilli() == 0 {
		return time.Time{}, false, false, "the Unix epoch, which 2017 refused"
	}
	var buf [timeLen]byte
	return t, string(appendTime(buf[:0], t)) == string(p), true, ""
}

// checkTime reports whether t can be written: the 2017 form holds the years
// 0000 to 9999, and 2017 refused the epoch itself.
func checkTime(t time.Time) string {
	u := t.UTC()
	if y := u.Year(); y < 0 || y > 9999 {
		return fmt.Sprintf("year %d outside 0000-9999", y)
	}
	if u.UnixMilli() == 0 {
		return "the Unix epoch, which 2017 peers refuse"
	}
	return ""
}

// appendTime appends t (in UTC, cut to the millisecond) in the 2017 form. The
// year must be within 0000-9999.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = appendDigits(b, int(month), 2)
	b = appendDigits(b, day, 2)
	b = appendDigits(b, hour, 2)
	b = appendDigits(b, minute, 2)
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/int(time.Millisecond), 3)
	return append(b, 'Z')
}

func appendDigits(b []byte, v, n int) []byte {
	var d [4]byte
	for i := n - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:n]...)
}

// sameMilli reports whether a and b fall in the same millisecond.
func sameMilli(a, b time.Time) bool {
	return a.Truncate(time.Millisecond).Equal(b.Truncate(time.Millisecond))
}

// keepRawTime reports whether the kept text raw still stands for t and so
// is written instead of the canonical form.
func keepRawTime(t time.Time, raw string) bool {
	if raw == "" {
		return false
	}
	rt, _, ok, _ := parseTime([]byte(raw))
	return ok && sameMilli(rt, t)
}

// timeFieldSize is the encoded size of timestamp field t.
func timeFieldSize(t time.Time, raw string) int {
	if keepRawTime(t, raw) {
		return varSize(len(raw))
	}
	return 1 + timeLen
}

// appendTimeField appends timestamp field t: the kept raw text when it
// still stands for t, else the canonical form.
func appendTimeField(b []byte, t time.Time, raw string) []byte {
	if keepRawTime(t, raw) {
		return appendVarString(b, raw)
	}
	return appendTime(append(b, byte(timeLen)), t)
}

// timeErr checks a time field before encoding.
func timeErr(t Type, field string, v time.Time) error {
	if reason := checkTime(v); reason != "" {
		return encodeError(t, field, ErrTimeRange, reason)
	}
	return nil
}

// time reads a timestamp field and returns the raw text to keep in
// Wire.Time ("" when canonical).
func (r *reader) time(field string) (time.Time, string, error) {
	start := r.off
	p, err := r.varOctets(field)
	if err != nil {
		return time.Time{}, "", err
	}
	t, canonical, ok, reason := parseTime(p)
	if !ok {
		return time.Time{}, "", r.fail(start, field, ErrBadTimestamp, fmt.Sprintf("%s: %s", quoteShort(p), reason))
	}
	if canonical {
		return t, "", nil
	}
	return t, string(p), nil
}

// quoteShort quotes at most 40 bytes of p for an error message.
func quoteShort(p []byte) string {
	if len(p) > 40 {
		return fmt.Sprintf("%q...", p[:40])
	}
	return fmt.Sprintf("%q", p)
}
