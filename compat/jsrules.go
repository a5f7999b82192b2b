package compat

import (
	"math/big"
	"strings"
)

// IsArrayIndex reports whether key is an array index in the ECMAScript sense:
// the canonical decimal form of an integer in [0, 2^32-2]. Such own keys of a
// plain object enumerate first, in ascending numeric order, before all other
// string keys, which keep their insertion order. It returns the index too.
func IsArrayIndex(key string) (uint32, bool) {
	if len(key) == 0 || len(key) > 10 || (len(key) > 1 && key[0] == '0') {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if v >= 1<<32-1 {
		return 0, false
	}
	return uint32(v), true
}

// isJSSpace reports whether r is WhiteSpace or LineTerminator in ECMAScript,
// which String-to-BigInt conversion trims.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// ParseBigInt converts s as JavaScript's BigInt(string) does: surrounding
// whitespace is trimmed, an empty string is 0, "0x"/"0o"/"0b" prefixes select
// a radix (no sign allowed then), otherwise an optional sign and decimal
// digits. It reports false where JS throws a SyntaxError.
func ParseBigInt(s string) (*big.Int, bool) {
	s = strings.TrimFunc(s, isJSSpace)
	if s == "" {
		return new(big.Int), true
	}
	base := 10
	if len(s) > 2 && s[0] == '0' {
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 10 {
			s = s[2:]
		}
	}
	digits := s
	if base == 10 && (s[0] == '+' || s[0] == '-') {
		digits = s[1:]
	}
	if digits == "" {
		return nil, false
	}
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		var d int
		switch {
		case c >= '0' && c <= '9':
			d = int(c - '0')
		case c >= 'a' && c <= 'z':
			d = int(c-'a') + 10
		case c >= 'A' && c <= 'Z':
			d = int(c-'A') + 10
		default:
			return nil, false
		}
		if d >= base {
			return nil, false
		}
	}
	if s[0] == '+' {
		s = s[1:]
	}
	v, ok := new(big.Int).SetString(s, base)
	return v, ok
}

// IsUnsafeSegment reports whether a property path segment is one that core
// refuses in service paths (E_INVALID_SERVICE_PATH): __proto__, prototype
// and constructor, which would reach an object's prototype in JS.
func IsUnsafeSegment(seg string) bool {
	switch seg {
	case "__proto__", "prototype", "constructor":
		return true
	}
	return false
}
