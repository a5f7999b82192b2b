package compat

import (
	"unicode"
	"unicode/utf8"
)

// JSName is the rule that names a Go struct field or method in JS, the
// way Go's exported names are usually written in JavaScript: the leading
// capitals are lowered, except the last of several when a lower-case
// letter follows it (it starts the next word).
//
//	Echo → echo    MakeCounter → makeCounter    HTTPGet → httpGet
//	ID → id        UserID → userID              A → a
//
// A `json` tag on a field, or a Naming map in the daemon, overrides it.
func JSName(goName string) string {
	// n: the byte length of the leading run of capitals.
	n, runes, lastSize := 0, 0, 0
	for n < len(goName) {
		r, size := utf8.DecodeRuneInString(goName[n:])
		if !unicode.IsUpper(r) {
			break
		}
		n, runes, lastSize = n+size, runes+1, size
	}
	if n == 0 {
		return goName
	}
	if runes > 1 && n < len(goName) {
		if r, _ := utf8.DecodeRuneInString(goName[n:]); unicode.IsLower(r) {
			n -= lastSize // that capital starts the next word
		}
	}
	lower := make([]rune, 0, n)
	for _, r := range goName[:n] {
		lower = append(lower, unicode.ToLower(r))
	}
	return string(lower) + goName[n:]
}
