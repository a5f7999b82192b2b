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
func plainJSON8(w uint64) bool { return special8(w)&swarHi == 0 }

// special8 has the high bit set in (at least) the first byte of w that is
// non-ASCII, a control character, '"' or '\\'. The subtractions only borrow
// past a byte that is itself flagged, so a zero result is exact.
func special8(w uint64) uint64 {
	return w | (w - swarLo*0x20) | ((w ^ swarLo*'"') - swarLo) | ((w ^ swarLo*'\\') - swarLo)
}

// PlainPrefix returns the length of the longest prefix of b, a multiple of
// eight bytes, made only of printable ASCII other than '"' and '\\'.
func PlainPrefix(b []byte) int {
	i := 0
	for i+64 <= len(b) {
		w := b[i : i+64 : i+64] // one bounds check for eight loads
		lo := special8(binary.LittleEndian.Uint64(w[0:8])) | special8(binary.LittleEndian.Uint64(w[8:16])) |
			special8(binary.LittleEndian.Uint64(w[16:24])) | special8(binary.LittleEndian.Uint64(w[24:32]))
		hi := special8(binary.LittleEndian.Uint64(w[32:40])) | special8(binary.LittleEndian.Uint64(w[40:48])) |
			special8(binary.LittleEndian.Uint64(w[48:56])) | special8(binary.LittleEndian.Uint64(w[56:64]))
		if (lo|hi)&swarHi != 0 {
			break
		}
		i += 64
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
