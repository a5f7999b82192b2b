package compat

import (
	"unicode/utf8"
)

// Strings in nexus-go follow JavaScript, whose strings are sequences of UTF-16
// code units and may hold lone surrogates. A Go string carries such a string
// as WTF-8: well-formed UTF-8 for every scalar value, and the three-byte
// generalized UTF-8 form (ED A0..BF 80..BF) for a lone surrogate. Any other
// byte sequence that is not UTF-8 is decoded the way the WHATWG TextDecoder
// that JS peers use decodes it: each maximal invalid subpart becomes U+FFFD.

// DecodeRune decodes the first character of s under the rules above. It
// returns the rune (a surrogate value 0xD800..0xDFFF for a WTF-8 surrogate,
// utf8.RuneError for an invalid subpart) and the number of bytes consumed,
// which is at least 1 for a non-empty s. ok is false for an invalid subpart.
func DecodeRune(s string) (r rune, size int, ok bool) { return decodeRune(s, true) }

// DecodeRuneStrict is DecodeRune for bytes that came off the wire: exactly
// the WHATWG UTF-8 decoder, so a surrogate encoded in three bytes is three
// invalid subparts, as a JS peer's TextDecoder sees it.
func DecodeRuneStrict(s string) (r rune, size int, ok bool) { return decodeRune(s, false) }

func decodeRune(s string, wtf8 bool) (r rune, size int, ok bool) {
	if len(s) == 0 {
		return utf8.RuneError, 0, false
	}
	b0 := s[0]
	if b0 < 0x80 {
		return rune(b0), 1, true
	}
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case b0 >= 0xC2 && b0 <= 0xDF:
		need = 1
	case b0 == 0xE0:
		need, lo = 2, 0xA0
	case b0 == 0xED && !wtf8:
		need, hi = 2, 0x9F
	case b0 >= 0xE1 && b0 <= 0xEF:
		// In WTF-8 mode 0xED admits A0..BF too: that is a surrogate.
		need = 2
	case b0 == 0xF0:
		need, lo = 3, 0x90
	case b0 >= 0xF1 && b0 <= 0xF3:
		need = 3
	case b0 == 0xF4:
		need, hi = 3, 0x8F
	default:
		return utf8.RuneError, 1, false
	}
	r = rune(b0) & (0x3F >> need)
	for i := 1; i <= need; i++ {
		if i >= len(s) {
			return utf8.RuneError, i, false
		}
		c := s[i]
		if c < lo || c > hi {
			return utf8.RuneError, i, false
		}
		lo, hi = 0x80, 0xBF
		r = r<<6 | rune(c&0x3F)
	}
	return r, need + 1, true
}

// IsSurrogate reports whether r is a UTF-16 surrogate code unit value.
func IsSurrogate(r rune) bool { return r >= 0xD800 && r <= 0xDFFF }

// AppendWTF8 appends the WTF-8 encoding of r (a scalar value or a lone
// surrogate) to dst.
func AppendWTF8(dst []byte, r rune) []byte {
	if IsSurrogate(r) {
		return append(dst, 0xED, byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
	}
	return utf8.AppendRune(dst, r)
}

// ToValid returns s with every invalid subpart replaced by U+FFFD, keeping
// WTF-8 surrogates. It returns s itself when nothing needs replacing.
func ToValid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b []byte
	for i := 0; i < len(s); {
		_, n, ok := DecodeRune(s[i:])
		if !ok {
			if b == nil {
				b = append(make([]byte, 0, len(s)+8), s[:i]...)
			}
			b = append(b, "\uFFFD"...)
		} else if b != nil {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	if b == nil {
		return s
	}
	return string(b)
}

// FromUTF16 builds the Go (WTF-8) string of a sequence of UTF-16 code units,
// pairing surrogates where JS would.
func FromUTF16(units []uint16) string {
	b := make([]byte, 0, len(units))
	for i := 0; i < len(units); i++ {
		u := rune(units[i])
		if u >= 0xD800 && u <= 0xDBFF && i+1 < len(units) {
			if l := rune(units[i+1]); l >= 0xDC00 && l <= 0xDFFF {
				b = utf8.AppendRune(b, 0x10000+(u-0xD800)<<10+(l-0xDC00))
				i++
				continue
			}
		}
		b = AppendWTF8(b, u)
	}
	return string(b)
}

// ToUTF16 returns the UTF-16 code units of a Go (WTF-8) string, as JS would
// see it. Invalid subparts count as U+FFFD.
func ToUTF16(s string) []uint16 {
	out := make([]uint16, 0, len(s))
	for i := 0; i < len(s); {
		r, n, ok := DecodeRune(s[i:])
		if !ok {
			r = utf8.RuneError
		}
		if r >= 0x10000 {
			r -= 0x10000
			out = append(out, uint16(0xD800+(r>>10)), uint16(0xDC00+(r&0x3FF)))
		} else {
			out = append(out, uint16(r))
		}
		i += n
	}
	return out
}

// UTF16Len returns the length of s in UTF-16 code units: JavaScript's
// String.prototype.length.
func UTF16Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			n++
			i++
			continue
		}
		r, size, ok := DecodeRune(s[i:])
		if ok && r >= 0x10000 {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return n
}
