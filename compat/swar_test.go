package compat

import "testing"

// PlainPrefix must agree with a byte-by-byte check on every byte value in
// every position.
func TestPlainPrefix(t *testing.T) {
	plain := func(c byte) bool { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' }
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 40; pos++ {
			b := make([]byte, 40)
			for i := range b {
				b[i] = 'a'
			}
			b[pos] = byte(c)
			want := 40 / 8 * 8
			if !plain(byte(c)) {
				want = pos / 8 * 8
			}
			if got := PlainPrefix(b); got != want {
				t.Fatalf("byte %#x at %d: got %d, want %d", c, pos, got, want)
			}
		}
	}
	// Bytes next to a special one must not hide or fake it (borrows).
	for _, s := range []string{"\x00\x01aaaaaa", "a\"\x22aaaaa", "\\\\\\\\\\\\\\\\", "\x1f\x20\x21\x22\x23\x5b\x5c\x5d", "\x7f\x80aaaaaa"} {
		if PlainPrefix([]byte(s)) != 0 {
			t.Errorf("%q: not caught", s)
		}
	}
}
