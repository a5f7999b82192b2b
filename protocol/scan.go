package protocol

import (
	"strconv"
	"unsafe"

	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/errcode"
)

// DefaultMaxDepth is the deepest nesting of arrays and objects the decoder
// accepts in one packet. JSON.parse in Node gives up a little above 10,000
// levels with a RangeError; nexus-go refuses earlier with a coded error,
// so a hostile peer cannot make it recurse without bound.
const DefaultMaxDepth = 1000

// Placeholder prefixes of @nexus-js/core payloads.
const (
	// PlaceholderPrefix starts every placeholder string ("\u0003").
	PlaceholderPrefix = '\x03'
	// EscapePrefix is put before user strings that start with U+0003 or
	// U+0004 ("\u0004").
	EscapePrefix = '\x04'
)

// scanner is a single-pass JSON validator and decoder over one packet.
// It is not safe for concurrent use; each decode creates its own.
type scanner struct {
	data     []byte
	pos      int
	depth    int
	maxDepth int
	deep     bool   // the last error was nesting deeper than maxDepth
	buf      []byte // scratch for unescaping
}

func (s *scanner) errorf(format string, args ...any) error {
	return errcode.New(errcode.IPCProtocolError, "invalid JSON at byte "+strconv.Itoa(s.pos)+": "+sprintf(format, args...))
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > s.maxDepth {
		s.deep = true
		return errcode.New(errcode.IPCProtocolError, "JSON nesting deeper than "+strconv.Itoa(s.maxDepth)+" levels")
	}
	return nil
}

// open enters the array or object whose opening byte is at s.pos. empty
// reports that the closing byte follows at once (it is consumed, and the
// container left).
func (s *scanner) open(close byte) (empty bool, err error) {
	if err := s.enter(); err != nil {
		return false, err
	}
	s.pos++
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == close {
		s.pos++
		s.depth--
		return true, nil
	}
	return false, nil
}

// next moves past what follows an element of a container: a ',' (more is
// true) or the container's closing byte (more is false, the container is
// left).
func (s *scanner) next(close byte) (more bool, err error) {
	s.ws()
	if s.pos < len(s.data) {
		if c := s.data[s.pos]; c == ',' {
			s.pos++
			return true, nil
		} else if c == close {
			s.pos++
			s.depth--
			return false, nil
		}
	}
	return false, s.separatorError(close)
}

// separatorError is next's error, kept out of line so that next stays
// cheap.
func (s *scanner) separatorError(close byte) error {
	return s.errorf("expected ',' or '%c'", close)
}

// skip validates one JSON value and moves past it.
func (s *scanner) skip() error {
	s.ws()
	if s.pos >= len(s.data) {
		return s.errorf("unexpected end of input")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		if empty, err := s.open('}'); empty || err != nil {
			return err
		}
		for {
			if err := s.key(); err != nil {
				return err
			}
			if err := s.skip(); err != nil {
				return err
			}
			if more, err := s.next('}'); !more || err != nil {
				return err
			}
		}
	case c == '[':
		if empty, err := s.open(']'); empty || err != nil {
			return err
		}
		for {
			if err := s.skip(); err != nil {
				return err
			}
			if more, err := s.next(']'); !more || err != nil {
				return err
			}
		}
	case c == '"':
		_, _, err := s.stringSpan()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := s.numberSpan()
		return err
	default:
		return s.literal()
	}
}

func (s *scanner) literal() error {
	rest := s.data[s.pos:]
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(rest) >= len(lit) && string(rest[:len(lit)]) == lit {
			s.pos += len(lit)
			return nil
		}
	}
	return s.errorf("unexpected character %q", s.data[s.pos])
}

// strClass: 0 plain ASCII, 1 quote, 2 backslash, 3 control, 4 non-ASCII.
var strClass = func() (t [256]uint8) {
	for i := 0; i < 0x20; i++ {
		t[i] = 3
	}
	t['"'] = 1
	t['\\'] = 2
	for i := 0x80; i < 0x100; i++ {
		t[i] = 4
	}
	return
}()

// stringSpan moves past a string literal starting at s.pos and returns its
// body (between the quotes) and whether it is "simple": no escapes and pure
// ASCII, so that the body is the string itself.
func (s *scanner) stringSpan() (body []byte, simple bool, err error) {
	start := s.pos + 1
	i := start
	simple = true
	d := s.data
	for i < len(d) {
		i += compat.PlainPrefix(d[i:])
		if i >= len(d) {
			break
		}
		switch strClass[d[i]] {
		case 0:
			i++
		case 1:
			s.pos = i + 1
			return d[start:i], simple, nil
		case 2:
			simple = false
			if i+1 >= len(d) {
				s.pos = i
				return nil, false, s.errorf("unterminated string")
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					s.pos = i
					return nil, false, s.errorf("invalid \\u escape")
				}
				i += 6
			default:
				s.pos = i
				return nil, false, s.errorf("invalid escape")
			}
		case 3:
			s.pos = i
			return nil, false, s.errorf("control character in string")
		case 4:
			simple = false
			i++
		}
	}
	s.pos = i
	return nil, false, s.errorf("unterminated string")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (s *scanner) numberSpan() ([]byte, error) {
	d := s.data
	start := s.pos
	i := start
	if i < len(d) && d[i] == '-' {
		i++
	}
	if i >= len(d) {
		s.pos = i
		return nil, s.errorf("invalid number")
	}
	if d[i] == '0' {
		i++
	} else if d[i] >= '1' && d[i] <= '9' {
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	} else {
		s.pos = i
		return nil, s.errorf("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			s.pos = i
			return nil, s.errorf("invalid number")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			s.pos = i
			return nil, s.errorf("invalid number")
		}
	}
	s.pos = i
	return d[start:i], nil
}

// str decodes the string literal at s.pos.
func (s *scanner) str() (string, error) {
	body, simple, err := s.stringSpan()
	if err != nil {
		return "", err
	}
	if simple {
		if len(body) >= 1024 {
			// Big plain strings share the frame's memory instead of being
			// copied: frames are never modified after they are read, and
			// DecodePacket's payloads already alias them.
			return unsafe.String(&body[0], len(body)), nil
		}
		return string(body), nil
	}
	return s.unquote(body)
}

// name is str for names that repeat call after call (service and property
// names in paths): plain ones come from the intern table.
func (s *scanner) name() (string, error) {
	body, simple, err := s.stringSpan()
	if err != nil {
		return "", err
	}
	if simple {
		return intern(body), nil
	}
	return s.unquote(body)
}

// unquote decodes the escapes of a string body.
func (s *scanner) unquote(body []byte) (string, error) {
	var err error
	s.buf, err = compat.AppendUnquoted(s.buf[:0], body)
	if err != nil {
		return "", s.errorf("%v", err)
	}
	return string(s.buf), nil
}

// array decodes a JSON array; s.data[s.pos] is its '['.
func (s *scanner) array(revive bool) ([]any, error) {
	arr := []any{}
	if empty, err := s.open(']'); err != nil {
		return nil, err
	} else if empty {
		return arr, nil
	}
	for {
		v, err := s.value(revive)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		if more, err := s.next(']'); err != nil {
			return nil, err
		} else if !more {
			return arr, nil
		}
	}
}

// value decodes one JSON value. With revive set, strings are payload
// strings: placeholders become Undefined, Ref, *Map, *Set and *big.Int, and
// one escape prefix is removed.
func (s *scanner) value(revive bool) (any, error) {
	s.ws()
	if s.pos >= len(s.data) {
		return nil, s.errorf("unexpected end of input")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object(revive)
	case c == '[':
		arr, err := s.array(revive)
		if err != nil {
			return nil, err
		}
		return arr, nil
	case c == '"':
		str, err := s.str()
		if err != nil {
			return nil, err
		}
		if revive && len(str) > 0 {
			switch str[0] {
			case EscapePrefix:
				return str[1:], nil
			case PlaceholderPrefix:
				return revivePlaceholder(str, s.maxDepth)
			}
		}
		return str, nil
	case c == '-' || (c >= '0' && c <= '9'):
		tok, err := s.numberSpan()
		if err != nil {
			return nil, err
		}
		return compat.ParseNumber(tok), nil
	case c == 't':
		return true, s.literal()
	case c == 'f':
		return false, s.literal()
	case c == 'n':
		return nil, s.literal()
	}
	return nil, s.errorf("unexpected character %q", s.data[s.pos])
}

func (s *scanner) object(revive bool) (any, error) {
	b := newObjectBuilder()
	if empty, err := s.open('}'); err != nil {
		return nil, err
	} else if empty {
		return &b.o, nil
	}
	for {
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return nil, s.errorf("expected a string key")
		}
		k, err := s.str()
		if err != nil {
			return nil, err
		}
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return nil, s.errorf("expected ':'")
		}
		s.pos++
		v, err := s.value(revive)
		if err != nil {
			return nil, err
		}
		b.add(k, v) // JSON.parse: a repeated key keeps its first position, last value
		if more, err := s.next('}'); err != nil {
			return nil, err
		} else if !more {
			return b.finish(), nil
		}
	}
}

// revivePlaceholder turns a string that starts with U+0003 into its value,
// as @nexus-js/core 1.2.0 revives it. Unknown types stay strings.
func revivePlaceholder(str string, maxDepth int) (any, error) {
	t, payload, hasPayload := str[1:], "", false
	for i := 0; i < len(t); i++ {
		if t[i] == ':' {
			t, payload, hasPayload = t[:i], t[i+1:], true
			break
		}
	}
	switch t {
	case "U":
		return Undefined{}, nil
	case "R":
		// JS revives "\u0003R" and "\u0003R:" to proxies of an empty id too;
		// any use of such a Ref fails with E_RESOURCE_NOT_FOUND.
		return Ref{ID: payload}, nil
	case "N":
		if !hasPayload {
			return nil, errcode.New(errcode.IPCProtocolError, "BigInt placeholder without digits")
		}
		v, ok := compat.ParseBigInt(payload)
		if !ok {
			return nil, errcode.New(errcode.IPCProtocolError, "BigInt placeholder with invalid digits: "+strconv.Quote(payload))
		}
		return v, nil
	case "M", "S":
		if !hasPayload {
			return nil, errcode.New(errcode.IPCProtocolError, "collection placeholder without contents")
		}
		inner := &scanner{data: []byte(payload), maxDepth: maxDepth}
		v, err := inner.value(false)
		if err == nil {
			inner.ws()
			if inner.pos != len(inner.data) {
				err = inner.errorf("unexpected data after the value")
			}
		}
		if err != nil {
			return nil, errcode.Wrap(errcode.IPCProtocolError, "invalid "+t+" placeholder contents", err)
		}
		if t == "M" {
			return mapFromJSON(v)
		}
		return setFromJSON(v)
	}
	return str, nil
}

// mapFromJSON is new Map(iterable) over a JSON-parsed value.
func mapFromJSON(v any) (*Map, error) {
	m := &Map{}
	switch x := v.(type) {
	case nil:
		return m, nil
	case string:
		if x == "" {
			return m, nil
		}
	case []any:
		for _, e := range x {
			switch ent := e.(type) {
			case []any:
				var k, val any = Undefined{}, Undefined{}
				if len(ent) > 0 {
					k = ent[0]
				}
				if len(ent) > 1 {
					val = ent[1]
				}
				m.Set(k, val)
			case *Object:
				k, ok := ent.Get("0")
				if !ok {
					k = Undefined{}
				}
				val, ok := ent.Get("1")
				if !ok {
					val = Undefined{}
				}
				m.Set(k, val)
			default:
				return nil, errcode.New(errcode.IPCProtocolError, "Map placeholder entry is not an entry object")
			}
		}
		return m, nil
	}
	return nil, errcode.New(errcode.IPCProtocolError, "Map placeholder contents are not iterable entries")
}

// setFromJSON is new Set(iterable) over a JSON-parsed value.
func setFromJSON(v any) (*Set, error) {
	s := &Set{}
	switch x := v.(type) {
	case nil:
		return s, nil
	case []any:
		for _, e := range x {
			s.Add(e)
		}
		return s, nil
	case string:
		// A string iterates by code point.
		for i := 0; i < len(x); {
			_, n, _ := compat.DecodeRune(x[i:])
			s.Add(x[i : i+n])
			i += n
		}
		return s, nil
	}
	return nil, errcode.New(errcode.IPCProtocolError, "Set placeholder contents are not iterable")
}
