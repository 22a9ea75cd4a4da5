package filter

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is a parse error at a column of the expression.
type Error struct {
	Col int // 1-based, in bytes
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("col %d: %s", e.Col, e.Msg) }

// Caret returns expr with a second line pointing at the error's column,
// for command-line messages:
//
//	method == x y
//	            ^
func (e *Error) Caret(expr string) string {
	col := min(max(e.Col-1, 0), len(expr))
	// Count characters, not bytes, so that the caret lines up under text
	// with multi-byte characters.
	return expr + "\n" + strings.Repeat(" ", utf8.RuneCountInString(expr[:col])) + "^"
}

// scanner walks the expression. Lexing is done on demand by the parser
// because what a token is depends on where it stands: after an operator
// "a|b" or "10.0.0.1:80" is one value, elsewhere "|" and ":" are not words.
type scanner struct {
	s   string
	pos int
}

func (p *scanner) errAt(pos int, format string, args ...any) *Error {
	return &Error{Col: pos + 1, Msg: fmt.Sprintf(format, args...)}
}

func (p *scanner) skipSpace() {
	for p.pos < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *scanner) eof() bool { p.skipSpace(); return p.pos >= len(p.s) }

// peekWord returns the identifier-like word at the current position without
// consuming it.
func (p *scanner) peekWord() string {
	p.skipSpace()
	i := p.pos
	for i < len(p.s) && isWordByte(p.s[i]) {
		i++
	}
	return p.s[p.pos:i]
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// keyword consumes kw (case-insensitive) or its symbol when present.
func (p *scanner) keyword(kw, sym string) bool {
	p.skipSpace()
	if w := p.peekWord(); w != "" && strings.EqualFold(w, kw) {
		p.pos += len(w)
		return true
	}
	if sym != "" && strings.HasPrefix(p.s[p.pos:], sym) {
		// "!" is not, but "!=" and "!~" are operators.
		if sym == "!" && p.pos+1 < len(p.s) && (p.s[p.pos+1] == '=' || p.s[p.pos+1] == '~') {
			return false
		}
		p.pos += len(sym)
		return true
	}
	return false
}

// operators, longest first so that "<=" wins over "<".
var operators = []string{"==", "!=", "!~", "=~", ">=", "<=", "=", "~", ">", "<"}

func (p *scanner) operator() (string, bool) {
	p.skipSpace()
	for _, op := range operators {
		if strings.HasPrefix(p.s[p.pos:], op) {
			p.pos += len(op)
			switch op {
			case "=":
				op = "=="
			case "=~":
				op = "~"
			}
			return op, true
		}
	}
	return "", false
}

// value reads a quoted string or a bare word ending at a space or ")".
func (p *scanner) value() (v string, start int, err error) {
	p.skipSpace()
	start = p.pos
	if p.pos >= len(p.s) {
		return "", start, nil
	}
	if q := p.s[p.pos]; q == '"' || q == '\'' {
		i := p.pos + 1
		for i < len(p.s) && p.s[i] != q {
			if p.s[i] == '\\' {
				i++
			}
			i++
		}
		if i >= len(p.s) {
			return "", start, p.errAt(start, "unterminated string: expected a closing %c", q)
		}
		lit := p.s[p.pos : i+1]
		if q == '\'' {
			lit = `"` + strings.ReplaceAll(lit[1:len(lit)-1], `"`, `\"`) + `"`
		}
		s, uerr := strconv.Unquote(lit)
		if uerr != nil {
			return "", start, p.errAt(start, "bad escape in string %s", p.s[p.pos:i+1])
		}
		p.pos = i + 1
		return s, start, nil
	}
	i := p.pos
	for i < len(p.s) && strings.IndexByte(" \t\r\n)", p.s[i]) < 0 {
		i++
	}
	v = p.s[p.pos:i]
	if v == "&&" || v == "||" || strings.EqualFold(v, "and") || strings.EqualFold(v, "or") {
		return "", start, nil
	}
	p.pos = i
	return v, start, nil
}
