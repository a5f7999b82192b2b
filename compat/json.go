package compat

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// needsEscape marks the ASCII bytes that JSON.stringify does not copy
// verbatim: controls, '"' and '\\'. DEL (0x7F) and every non-ASCII scalar,
// including U+2028 and U+2029, are written raw.
var needsEscape = func() (t [256]bool) {
	for i := 0; i < 0x20; i++ {
		t[i] = true
	}
	t['"'], t['\\'] = true, true
	for i := 0x80; i < 0x100; i++ {
		t[i] = true // not an escape: a slow-path check for UTF-8 validity
	}
	return
}()

// AppendString appends s as a JSON string literal, byte-identical to
// JavaScript's JSON.stringify (well-formed JSON.stringify, ES2019):
//   - '"' and '\\' are escaped; \b \f \n \r \t use their short escapes; other
//     controls below U+0020 are \u00xx with lowercase hex;
//   - DEL, '<', '>', '&', U+2028 and U+2029 are written raw (no HTML escaping);
//   - a lone surrogate (carried in Go as WTF-8, see DecodeRune) becomes \udxxx;
//   - any other byte sequence that is not UTF-8 becomes U+FFFD, one per
//     maximal invalid subpart, which is what a JS peer would read from it.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if n := plainPrefixString(s[i:]); n > 0 {
			i += n
			continue
		}
		c := s[i]
		if !needsEscape[c] {
			i++
			continue
		}
		if c >= 0x80 {
			r, n, ok := DecodeRune(s[i:])
			if ok && !IsSurrogate(r) {
				i += n
				continue
			}
			dst = append(dst, s[start:i]...)
			if ok {
				dst = append(dst, '\\', 'u', 'd', hexDigits[(r>>8)&0xF], hexDigits[(r>>4)&0xF], hexDigits[r&0xF])
			} else {
				dst = append(dst, "\uFFFD"...)
			}
			i += n
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendNumber appends f as JavaScript's Number::toString writes it inside
// JSON.stringify: NaN and ±Infinity become null, -0 becomes 0, integers are
// written in full up to 1e21, and other values use the shortest round-trip
// digits with ECMAScript's choice between fixed and exponent notation
// (1e+21, 1e-7, 0.000001, 5e-324).
func AppendNumber(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if f == 0 {
		return append(dst, '0')
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	neg := e[0] == '-'
	if neg {
		e = e[1:]
		dst = append(dst, '-')
	}
	// e is "d[.ddd]e±xx".
	epos := 0
	for epos < len(e) && e[epos] != 'e' {
		epos++
	}
	var digits [24]byte
	k := 0
	for _, c := range e[:epos] {
		if c != '.' {
			digits[k] = c
			k++
		}
	}
	exp, _ := strconv.Atoi(string(e[epos+1:]))
	n := exp + 1 // position of the decimal point relative to the digits
	switch {
	case k <= n && n <= 21:
		dst = append(dst, digits[:k]...)
		for i := 0; i < n-k; i++ {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, digits[:n]...)
		dst = append(dst, '.')
		dst = append(dst, digits[n:k]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		for i := 0; i < -n; i++ {
			dst = append(dst, '0')
		}
		dst = append(dst, digits[:k]...)
	default:
		dst = append(dst, digits[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:k]...)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		} else {
			dst = append(dst, '-')
		}
		x := n - 1
		if x < 0 {
			x = -x
		}
		dst = strconv.AppendInt(dst, int64(x), 10)
	}
	return dst
}

// FormatNumber returns AppendNumber's text for f as a string: JS String(f),
// except that NaN and ±Infinity read "null".
func FormatNumber(f float64) string { return string(AppendNumber(nil, f)) }

// ParseNumber converts the text of a JSON number token to the float64 that
// JSON.parse produces: correctly rounded, overflow to ±Infinity, -0 kept.
// The caller has checked the token's grammar.
func ParseNumber(tok []byte) float64 {
	// Fast path: short plain integers.
	if len(tok) < 16 {
		var v int64
		i, neg := 0, false
		if tok[0] == '-' {
			neg, i = true, 1
		}
		j := i
		for ; j < len(tok) && tok[j] >= '0' && tok[j] <= '9'; j++ {
			v = v*10 + int64(tok[j]-'0')
		}
		if j == len(tok) && j > i {
			if neg {
				if v == 0 {
					return math.Copysign(0, -1)
				}
				return float64(-v)
			}
			return float64(v)
		}
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return f // ±Inf or ±0, as JS rounds
		}
	}
	return f
}

// errBadEscape is returned by AppendUnquoted for a malformed escape.
var errBadEscape = errors.New("invalid escape in JSON string")

// AppendUnquoted appends the contents of a JSON string literal body (the
// bytes between the quotes, escapes intact) to dst, as JSON.parse reads it
// from a frame that was decoded with TextDecoder: raw invalid UTF-8 becomes
// U+FFFD per maximal subpart (WHATWG), \uXXXX pairs join into one scalar and
// a lone surrogate escape is kept as a WTF-8 surrogate. The caller has
// checked that body contains no raw control characters or unescaped quotes.
func AppendUnquoted(dst []byte, body []byte) ([]byte, error) {
	for i := 0; i < len(body); {
		c := body[i]
		if c >= 0x80 {
			_, n, ok := DecodeRuneStrict(string(body[i:min(i+4, len(body))]))
			if ok {
				dst = append(dst, body[i:i+n]...)
			} else {
				dst = append(dst, "\uFFFD"...)
			}
			i += n
			continue
		}
		if c != '\\' {
			j := i + 1
			for j < len(body) && body[j] != '\\' && body[j] < 0x80 {
				j++
			}
			dst = append(dst, body[i:j]...)
			i = j
			continue
		}
		if i+1 >= len(body) {
			return dst, errBadEscape
		}
		e := body[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			u, ok := hex4(body, i)
			if !ok {
				return dst, errBadEscape
			}
			i += 4
			if u >= 0xD800 && u <= 0xDBFF && i+6 <= len(body) && body[i] == '\\' && body[i+1] == 'u' {
				if l, ok := hex4(body, i+2); ok && l >= 0xDC00 && l <= 0xDFFF {
					dst = utf8.AppendRune(dst, 0x10000+(u-0xD800)<<10+(l-0xDC00))
					i += 6
					continue
				}
			}
			dst = AppendWTF8(dst, u)
		default:
			return dst, errBadEscape
		}
	}
	return dst, nil
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
