package config

import (
	"strconv"
	"strings"
)

// keyLines finds the line each key, table and array element of a TOML text
// is written on, by its full path with indices: "guilds[0]" (the first
// [[guilds]] header), "guilds[0].schedules[1].duration",
// "guilds[0].schedules[1].times[2]" (an element of a multi-line array),
// "guilds[0].schedules[0].name" inside an inline table of an inline array.
//
// BurntSushi/toml keeps key positions, but by path without indices and only
// the last one written, so every [[guilds.schedules]] would point at the
// last schedule; this scans the text itself. It only runs on text the TOML
// decoder accepted, and never fails: what it cannot follow it skips.
type lineIndex map[string]int

func keyLines(text string) lineIndex {
	s := &scanner{src: text, line: 1, lines: lineIndex{}, arrays: map[string]int{}}
	s.document()
	return s.lines
}

// lineOf is the line of path, or of the nearest enclosing table or key
// that is written (a missing key is reported at its table's header); 0
// when none is.
func (ix lineIndex) lineOf(path string) int {
	for path != "" {
		if n, ok := ix[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

type scanner struct {
	src   string
	pos   int
	line  int
	lines lineIndex
	// arrays counts the elements of each array of tables seen so far, by
	// its path without the index ("guilds[0].schedules").
	arrays map[string]int
}

func (s *scanner) eof() bool { return s.pos >= len(s.src) }

func (s *scanner) peek() byte {
	if s.eof() {
		return 0
	}
	return s.src[s.pos]
}

func (s *scanner) next() byte {
	c := s.src[s.pos]
	s.pos++
	if c == '\n' {
		s.line++
	}
	return c
}

func (s *scanner) record(path string) {
	if _, ok := s.lines[path]; !ok && path != "" {
		s.lines[path] = s.line
	}
}

func (s *scanner) skipSpace() {
	for !s.eof() && (s.peek() == ' ' || s.peek() == '\t' || s.peek() == '\r') {
		s.pos++
	}
}

// skipBlank skips spaces, newlines and comments (inside arrays).
func (s *scanner) skipBlank() {
	for !s.eof() {
		switch s.peek() {
		case ' ', '\t', '\r', '\n':
			s.next()
		case '#':
			s.skipLine()
		default:
			return
		}
	}
}

func (s *scanner) skipLine() {
	for !s.eof() && s.peek() != '\n' {
		s.pos++
	}
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func (s *scanner) document() {
	table := ""
	for !s.eof() {
		start := s.pos
		s.skipBlank()
		if s.eof() {
			return
		}
		if s.peek() == '[' {
			table = s.header()
		} else {
			s.keyValue(table)
		}
		s.skipSpace()
		if s.peek() == '#' {
			s.skipLine()
		}
		if s.pos == start {
			s.next() // cannot follow: skip a byte rather than loop
		}
	}
}

// header reads [a.b] or [[a.b]] and returns the table's path with indices.
func (s *scanner) header() string {
	s.next()
	array := s.peek() == '['
	if array {
		s.next()
	}
	s.skipSpace()
	parts := s.key()
	s.skipSpace()
	for !s.eof() && s.peek() == ']' {
		s.next()
	}
	path := ""
	for i, p := range parts {
		name := join(path, p)
		switch n, isArray := s.arrays[name]; {
		case i == len(parts)-1 && array:
			s.arrays[name] = n + 1
			s.record(name)
			path = name + "[" + strconv.Itoa(n) + "]"
		case isArray && n > 0:
			path = name + "[" + strconv.Itoa(n-1) + "]"
		default:
			path = name
		}
		s.record(path)
	}
	return path
}

// key reads a dotted key of bare and quoted parts.
func (s *scanner) key() []string {
	var parts []string
	for !s.eof() {
		s.skipSpace()
		var part string
		switch s.peek() {
		case '"':
			part = s.basicString()
		case '\'':
			part = s.literalString()
		default:
			start := s.pos
			for !s.eof() && isBare(s.peek()) {
				s.pos++
			}
			part = s.src[start:s.pos]
		}
		parts = append(parts, part)
		s.skipSpace()
		if s.peek() != '.' {
			return parts
		}
		s.next()
	}
	return parts
}

func isBare(c byte) bool {
	return c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func (s *scanner) keyValue(table string) {
	parts := s.key()
	path := table
	for _, p := range parts {
		path = join(path, p)
		s.record(path)
	}
	s.skipSpace()
	if s.peek() != '=' {
		return
	}
	s.next()
	s.skipSpace()
	s.value(path)
}

// value skips one value, recording the elements of arrays and the keys of
// inline tables under path.
func (s *scanner) value(path string) {
	switch {
	case strings.HasPrefix(s.src[s.pos:], `"""`):
		s.multiline(`"""`, true)
	case strings.HasPrefix(s.src[s.pos:], `'''`):
		s.multiline(`'''`, false)
	case s.peek() == '"':
		s.basicString()
	case s.peek() == '\'':
		s.literalString()
	case s.peek() == '[':
		s.next()
		for i := 0; !s.eof(); i++ {
			s.skipBlank()
			if s.eof() || s.peek() == ']' {
				break
			}
			elem := path + "[" + strconv.Itoa(i) + "]"
			s.record(elem)
			start := s.pos
			s.value(elem)
			s.skipBlank()
			if s.peek() == ',' {
				s.next()
			} else if s.pos == start {
				s.next()
			}
		}
		if !s.eof() {
			s.next()
		}
	case s.peek() == '{':
		s.next()
		for !s.eof() {
			s.skipSpace()
			if s.eof() || s.peek() == '}' {
				break
			}
			start := s.pos
			s.keyValue(path)
			s.skipSpace()
			if s.peek() == ',' {
				s.next()
			} else if s.pos == start {
				s.next()
			}
		}
		if !s.eof() {
			s.next()
		}
	default:
		// A number, boolean or date: up to what ends a value.
		for !s.eof() && !strings.ContainsRune(",]}#\n", rune(s.peek())) {
			s.pos++
		}
	}
}

// basicString reads "…" with escapes and returns its content, unescaped
// only as far as keys need.
func (s *scanner) basicString() string {
	s.next()
	var b strings.Builder
	for !s.eof() && s.peek() != '"' && s.peek() != '\n' {
		c := s.next()
		if c == '\\' && !s.eof() {
			c = s.next()
		}
		b.WriteByte(c)
	}
	if !s.eof() && s.peek() == '"' {
		s.next()
	}
	return b.String()
}

func (s *scanner) literalString() string {
	s.next()
	start := s.pos
	for !s.eof() && s.peek() != '\'' && s.peek() != '\n' {
		s.pos++
	}
	out := s.src[start:s.pos]
	if !s.eof() && s.peek() == '\'' {
		s.next()
	}
	return out
}

func (s *scanner) multiline(delim string, escapes bool) {
	s.pos += len(delim)
	for !s.eof() {
		if strings.HasPrefix(s.src[s.pos:], delim) {
			s.pos += len(delim)
			// Up to two more quotes belong to the content ("""a""""").
			for i := 0; i < 2 && !s.eof() && s.peek() == delim[0]; i++ {
				s.pos++
			}
			return
		}
		c := s.next()
		if escapes && c == '\\' && !s.eof() {
			s.next()
		}
	}
}
