package compat

import (
	"encoding/binary"
	"unsafe"
)

// SWAR ("SIMD within a register") helpers: test eight bytes at once.
const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
)

// plainJSON8 reports whether the eight bytes of w are all printable ASCII
// other than '"' and '\\': bytes that JSON strings carry verbatim both ways.
func plainJSON8(w uint64) bool {
	if w&swarHi != 0 {
		return false // non-ASCII
	}
	less := (w - swarLo*0x20) & ^w & swarHi // some byte < 0x20
	q := w ^ (swarLo * '"')
	quote := (q - swarLo) & ^q & swarHi
	bs := w ^ (swarLo * '\\')
	back := (bs - swarLo) & ^bs & swarHi
	return less|quote|back == 0
}

// PlainPrefix returns the length of the longest prefix of b, a multiple of
// eight bytes, made only of printable ASCII other than '"' and '\\'.
func PlainPrefix(b []byte) int {
	i := 0
	for i+32 <= len(b) {
		w0 := binary.LittleEndian.Uint64(b[i:])
		w1 := binary.LittleEndian.Uint64(b[i+8:])
		w2 := binary.LittleEndian.Uint64(b[i+16:])
		w3 := binary.LittleEndian.Uint64(b[i+24:])
		if !plainJSON8(w0) || !plainJSON8(w1) || !plainJSON8(w2) || !plainJSON8(w3) {
			break
		}
		i += 32
	}
	for i+8 <= len(b) && plainJSON8(binary.LittleEndian.Uint64(b[i:])) {
		i += 8
	}
	return i
}

// plainPrefixString is PlainPrefix for a string, without copying it.
func plainPrefixString(s string) int {
	if len(s) < 8 {
		return 0
	}
	return PlainPrefix(unsafe.Slice(unsafe.StringData(s), len(s)))
}
