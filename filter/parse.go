package filter

import (
	"strings"

	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// Expr is a parsed filter. The zero value and nil match every call, as an
// empty filter does.
type Expr struct {
	root     node
	src      string
	schema   Schema
	named    bool
	warnings []string
	// needsCall: the filter reads what a Summary does not hold (decided
	// once, as views ask for every call).
	needsCall bool
}

// PathChecker is a Schema that can tell whether any method's type has a
// field path, so that a misspelt name is an error when the filter is
// parsed rather than a filter that silently matches nothing.
type PathChecker interface {
	// PathKnown reports whether the request (response false) or response
	// type of any known method has path; when not, fields are the names
	// possible where it failed, and hasMethods whether any method is known.
	PathKnown(response bool, path []string) (known bool, fields []string, hasMethods bool)
}

// Schema maps named message-field paths to field numbers; see the package
// documentation. Schema decoding implements it; filter only needs numbers.
type Schema interface {
	// FieldNumbers resolves path (names, or numbers as text) in the request
	// (response false) or response message type of method. ok is false when
	// the method or a name is unknown.
	FieldNumbers(method string, response bool, path []string) (nums []int32, ok bool)
}

// Options change how an expression is parsed.
type Options struct {
	// Schema resolves named paths such as req.name; nil means named paths
	// match nothing.
	Schema Schema
}

// node is one part of the expression tree.
type node interface {
	match(c *grpcframe.Call, e *Expr) bool
	matchSummary(s *Summary) bool
	summarizable() bool
}

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ x node }

func (n andNode) match(c *grpcframe.Call, e *Expr) bool { return n.l.match(c, e) && n.r.match(c, e) }
func (n orNode) match(c *grpcframe.Call, e *Expr) bool  { return n.l.match(c, e) || n.r.match(c, e) }
func (n notNode) match(c *grpcframe.Call, e *Expr) bool { return !n.x.match(c, e) }

// Parse parses a filter expression. An empty or blank expression is valid
// and matches every call.
func Parse(expr string) (*Expr, error) { return ParseWith(expr, Options{}) }

// ParseWith parses a filter expression with options.
func ParseWith(expr string, opt Options) (*Expr, error) {
	e := &Expr{src: expr, schema: opt.Schema}
	p := &parser{scanner: scanner{s: expr}, e: e}
	if p.eof() {
		return e, nil
	}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if !p.eof() {
		return nil, p.errAt(p.pos, "expected and, or or the end of the filter, found %q", rest(p.s[p.pos:]))
	}
	e.root = root
	e.needsCall = !root.summarizable()
	return e, nil
}

// Match reports whether the call satisfies the filter.
func (e *Expr) Match(c *grpcframe.Call) bool {
	if e == nil || e.root == nil {
		return true
	}
	return e.root.match(c, e)
}

// String returns the expression as written.
func (e *Expr) String() string {
	if e == nil {
		return ""
	}
	return e.src
}

// Warnings say what in the filter may match nothing for a reason the user
// should know: a field named while no schema is loaded yet.
func (e *Expr) Warnings() []string {
	if e == nil {
		return nil
	}
	return e.warnings
}

// NeedsSchema reports whether the filter names message fields by name
// (req.name) while no Schema was given, so those parts match nothing.
func (e *Expr) NeedsSchema() bool { return e != nil && e.named && e.schema == nil }

type parser struct {
	scanner
	e     *Expr
	depth int
}

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 100

func (p *parser) or() (node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or", "||") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *parser) and() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and", "&&") {
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
	return l, nil
}

func (p *parser) unary() (node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errAt(p.pos, "nested too deeply")
	}
	if p.keyword("not", "!") {
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	}
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == '(' {
		open := p.pos
		p.pos++
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.s) || p.s[p.pos] != ')' {
			return nil, p.errAt(p.pos, "expected \")\" to close the \"(\" at col %d", open+1)
		}
		p.pos++
		return x, nil
	}
	return p.comparison()
}

// comparison parses FIELD [OP VALUE], or a search term standing alone.
func (p *parser) comparison() (node, error) {
	if n, ok, err := p.search(); ok || err != nil {
		return n, err
	}
	p.skipSpace()
	start := p.pos
	word := p.peekWord()
	if word == "" {
		if p.pos >= len(p.s) {
			return nil, p.errAt(p.pos, "expected a field name (%s)", fieldList)
		}
		return nil, p.errAt(p.pos, "expected a field name (%s), found %q", fieldList, rest(p.s[p.pos:]))
	}
	p.pos += len(word)
	c := &cmp{name: word}
	if err := p.field(c, start); err != nil {
		return nil, err
	}
	p.skipSpace()
	opPos := p.pos
	op, ok := p.operator()
	if !ok {
		if !p.atEndOfComparison() {
			return nil, p.errAt(p.pos, "expected an operator (== != ~ !~ < <= > >=) after %q, found %q", word, rest(p.s[p.pos:]))
		}
		if !c.existsOK() {
			return nil, p.errAt(opPos, "expected an operator (== != ~ !~ < <= > >=) after %q", p.s[start:opPos])
		}
		c.op = "exists"
		return c, nil
	}
	c.op = op
	v, vpos, err := p.value()
	if err != nil {
		return nil, err
	}
	if v == "" && p.pos == vpos {
		return nil, p.errAt(vpos, "expected a value after %q", op)
	}
	if msg := c.setValue(v); msg != "" {
		return nil, p.errAt(vpos, "%s", msg)
	}
	if c.badOp() {
		return nil, p.errAt(opPos, "%q cannot be compared with %s", c.name, op)
	}
	return c, nil
}

func (p *parser) atEndOfComparison() bool {
	if p.eof() {
		return true
	}
	r := p.s[p.pos:]
	if r[0] == ')' || strings.HasPrefix(r, "&&") || strings.HasPrefix(r, "||") {
		return true
	}
	w := strings.ToLower(p.peekWord())
	return w == "and" || w == "or"
}

// rest quotes a short piece of what follows, for error messages.
func rest(s string) string {
	if r := []rune(s); len(r) > 12 {
		return string(r[:12]) + "…"
	}
	return s
}
