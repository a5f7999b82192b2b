package protocol

// Values nested deeper than maxDepth inside a packet. The packet's own
// elements are validated by skipField: the routing (type, id, target) of a
// packet whose payload is too deep is still known, so the call fails on
// its own when its payload is decoded (an ERR to the caller, a failed call
// for us) instead of ending the session, as a JS peer fails only that call.

// skipField is skip for an element of a packet: a value nested deeper than
// maxDepth is validated by skipDeep, which does not recurse.
func (s *scanner) skipField() error {
	start, depth := s.pos, s.depth
	s.deep = false
	err := s.skip()
	if err == nil || !s.deep {
		return err
	}
	s.pos, s.depth, s.deep = start, depth, false
	return s.skipDeep()
}

// closers is a stack of the closing bytes of open containers, one bit
// each ('}' is set), so that a frame of 16 MiB of '[' costs 2 MiB.
type closers struct {
	bits []uint64
	n    int
}

func (c *closers) push(close byte) {
	if c.n/64 == len(c.bits) {
		c.bits = append(c.bits, 0)
	}
	if close == '}' {
		c.bits[c.n/64] |= 1 << (c.n % 64)
	} else {
		c.bits[c.n/64] &^= 1 << (c.n % 64)
	}
	c.n++
}

func (c *closers) top() byte {
	if c.bits[(c.n-1)/64]&(1<<((c.n-1)%64)) != 0 {
		return '}'
	}
	return ']'
}

func (c *closers) pop() { c.n-- }

// skipDeep validates one JSON value of any depth and moves past it.
func (s *scanner) skipDeep() error {
	var open closers
	for {
		s.ws()
		if s.pos >= len(s.data) {
			return s.errorf("unexpected end of input")
		}
		switch c := s.data[s.pos]; {
		case c == '[' || c == '{':
			s.pos++
			s.ws()
			if s.pos < len(s.data) && (s.data[s.pos] == ']' && c == '[' || s.data[s.pos] == '}' && c == '{') {
				s.pos++
				break
			}
			if c == '{' {
				open.push('}')
				if err := s.key(); err != nil {
					return err
				}
			} else {
				open.push(']')
			}
			continue // the container's first element
		case c == '"':
			if _, _, err := s.stringSpan(); err != nil {
				return err
			}
		case c == '-' || (c >= '0' && c <= '9'):
			if _, err := s.numberSpan(); err != nil {
				return err
			}
		default:
			if err := s.literal(); err != nil {
				return err
			}
		}
		// After a value: close the containers it ends, or go on to the
		// next element of the innermost one.
		for {
			if open.n == 0 {
				return nil
			}
			s.ws()
			if s.pos >= len(s.data) {
				return s.errorf("unexpected end of input")
			}
			close := open.top()
			if s.data[s.pos] == close {
				s.pos++
				open.pop()
				continue
			}
			if s.data[s.pos] != ',' {
				return s.separatorError(close)
			}
			s.pos++
			if close == '}' {
				if err := s.key(); err != nil {
					return err
				}
			}
			break
		}
	}
}

// key moves past an object key and its ':' (for skip and skipDeep).
func (s *scanner) key() error {
	s.ws()
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return s.errorf("expected a string key")
	}
	if _, _, err := s.stringSpan(); err != nil {
		return err
	}
	s.ws()
	if s.pos >= len(s.data) || s.data[s.pos] != ':' {
		return s.errorf("expected ':'")
	}
	s.pos++
	return nil
}
