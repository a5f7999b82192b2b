package compat

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/nexus-interop/nexus-go/errcode"
)

func TestAppendNumber(t *testing.T) {
	cases := []struct {
		f    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {1, "1"}, {-1, "-1"},
		{1e21, "1e+21"}, {1e20, "100000000000000000000"}, {123456789012345680000, "123456789012345680000"},
		{1e-7, "1e-7"}, {1e-6, "0.000001"}, {pointOne + 0.2, "0.30000000000000004"},
		{5e-324, "5e-324"}, {math.MaxFloat64, "1.7976931348623157e+308"},
		{math.NaN(), "null"}, {math.Inf(1), "null"}, {math.Inf(-1), "null"},
		{9007199254740993, "9007199254740992"}, {1 << 53, "9007199254740992"}, {-1.5e-10, "-1.5e-10"},
		{123.456, "123.456"}, {1.5e300, "1.5e+300"}, {2.5e-5, "0.000025"},
	}
	for _, c := range cases {
		if got := FormatNumber(c.f); got != c.want {
			t.Errorf("%v: got %s, want %s", c.f, got, c.want)
		}
	}
}

func TestAppendString(t *testing.T) {
	cases := map[string]string{
		"plain":              `"plain"`,
		"<>&'":               `"<>&'"`,
		"\"\\":               `"\"\\"`,
		"\b\f\n\r\t\x00\x1f": `"\b\f\n\r\t\u0000\u001f"`,
		"\x7f":               "\"\x7f\"",
		"\u2028\u2029":       "\"\u2028\u2029\"",
		"\xed\xa0\x80":       `"\ud800"`, // WTF-8 lone surrogate
		"\xed\xbf\xbfz":      `"\udfffz"`,
		"a\xffb":             "\"a\uFFFDb\"",
		"\xe2\x82":           "\"\uFFFD\"", // one maximal subpart
		"😀":                  "\"😀\"",
	}
	for in, want := range cases {
		if got := string(AppendString(nil, in)); got != want {
			t.Errorf("%q: got %s, want %s", in, got, want)
		}
	}
}

func TestUnquote(t *testing.T) {
	cases := map[string]string{
		`\ud83d\ude00`: "😀",
		`\ud800`:       "\xed\xa0\x80",
		`\udc00\ud800`: "\xed\xb0\x80\xed\xa0\x80",
		`a\/b\u0041`:   "a/bA",
		"\xff":         "\uFFFD",
		"\xed\xa0\x80": "\uFFFD\uFFFD\uFFFD", // raw surrogate bytes: invalid, as TextDecoder reads them
	}
	for in, want := range cases {
		got, err := AppendUnquoted(nil, []byte(in))
		if err != nil || string(got) != want {
			t.Errorf("%q: got %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := AppendUnquoted(nil, []byte(`\x`)); err == nil {
		t.Error("bad escape accepted")
	}
}

func TestUTF16(t *testing.T) {
	units := []uint16{0xD83D, 0xDE00, 0xD800, 'a', 0xDC00}
	s := FromUTF16(units)
	if s != "😀\xed\xa0\x80a\xed\xb0\x80" {
		t.Fatalf("FromUTF16: %q", s)
	}
	back := ToUTF16(s)
	if len(back) != len(units) || UTF16Len(s) != len(units) {
		t.Fatalf("ToUTF16: %v", back)
	}
	for i := range units {
		if back[i] != units[i] {
			t.Fatalf("ToUTF16: %v", back)
		}
	}
}

func TestNormalizePath(t *testing.T) {
	cases := map[string]string{
		"": ".", "/": "/", "//": "/", "/a//b/": "/a/b/", "/a/./b": "/a/b", "/a/../../b": "/b",
		"a/../..": "..", "./": "./", "/tmp/x/../y.sock": "/tmp/y.sock",
	}
	for in, want := range cases {
		if got := NormalizePath(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
	if got := JoinPath("/run/user/1000", "nexus"); got != "/run/user/1000/nexus" {
		t.Error(got)
	}
}

func TestDefaultSocketPath(t *testing.T) {
	p, err := DefaultSocketPath("app", DefaultInstance, Env{XDGRuntimeDir: "/run/user/1000"})
	if err != nil || p != "/run/user/1000/nexus/app/default.sock" {
		t.Fatalf("%q %v", p, err)
	}
	p, err = DefaultSocketPath("app", "main", Env{UID: 1000})
	if err != nil || p != "/tmp/nexus-1000/app/main.sock" {
		t.Fatalf("%q %v", p, err)
	}
	for _, seg := range []string{"", ".", "..", "a/b", `a\b`} {
		if _, err := DefaultSocketPath(seg, "x", Env{}); !errors.Is(err, errcode.IPCAddressInvalid) {
			t.Errorf("appId %q: %v", seg, err)
		}
	}
	if _, err := DefaultSocketPath("app", "x", Env{XDGRuntimeDir: "relative"}); !errors.Is(err, errcode.IPCAddressInvalid) {
		t.Errorf("relative XDG: %v", err)
	}
	long := "/" + string(make([]byte, 0))
	for len(long) < 108 {
		long += "a"
	}
	if _, err := ValidateSocketPath(long); !errors.Is(err, errcode.IPCPathTooLong) {
		t.Errorf("108-byte path: %v", err)
	}
	if _, err := ValidateSocketPath(long[:107]); err != nil {
		t.Errorf("107-byte path: %v", err)
	}
	// 60 code units but 120 bytes: JS accepts it; the kernel would not.
	wide := "/"
	for UTF16Len(wide) < 60 {
		wide += "é"
	}
	if _, err := ValidateSocketPath(wide); !errors.Is(err, errcode.IPCPathTooLong) {
		t.Errorf("wide path: %v", err)
	}
	if err := CheckTarget("node-ipc-client", "a"); !errors.Is(err, errcode.IPCAddressInvalid) {
		t.Error(err)
	}
}

func TestParseBigInt(t *testing.T) {
	ok := map[string]string{"": "0", " 12 ": "12", "-5": "-5", "+5": "5", "0x1F": "31", "0b101": "5", "0o17": "15", "\u00a012\u2028": "12", "123456789012345678901234567890": "123456789012345678901234567890"}
	for in, want := range ok {
		v, good := ParseBigInt(in)
		if !good || v.String() != want {
			t.Errorf("%q: got %v %v", in, v, good)
		}
	}
	for _, bad := range []string{"1e3", "-0x10", "0x", "1.0", "abc", "--1", "+"} {
		if _, good := ParseBigInt(bad); good {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestIsArrayIndex(t *testing.T) {
	for k, want := range map[string]bool{"0": true, "10": true, "4294967294": true, "4294967295": false, "01": false, "-1": false, "1.0": false, "": false} {
		if _, got := IsArrayIndex(k); got != want {
			t.Errorf("%q: %v", k, got)
		}
	}
}

var pointOne = 0.1

func TestJSName(t *testing.T) {
	for in, want := range map[string]string{
		"Echo": "echo", "MakeCounter": "makeCounter", "HTTPGet": "httpGet", "ID": "id",
		"UserID": "userID", "A": "a", "AB": "ab", "X1": "x1", "already": "already",
		"GetHTTPStatus": "getHTTPStatus", "Ünïcode": "ünïcode", "ÄÖx": "äÖx", "": "",
	} {
		if got := JSName(in); got != want {
			t.Errorf("JSName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAbstractAddressesAndUnsafeSegments(t *testing.T) {
	for _, p := range []string{"@nexus", "\x00nexus"} {
		if _, err := ValidateSocketPath(p); errcode.CodeOf(err) != errcode.IPCAddressInvalid || !strings.Contains(err.Error(), "Abstract sockets are reserved") {
			t.Errorf("ValidateSocketPath(%q): %v", p, err)
		}
	}
	for seg, want := range map[string]bool{"__proto__": true, "prototype": true, "constructor": true, "proto": false, "Constructor": false, "": false} {
		if IsUnsafeSegment(seg) != want {
			t.Errorf("IsUnsafeSegment(%q) = %v", seg, !want)
		}
	}
}
