package filter

import (
	"strings"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/h2decode"
)

// searchNode is a search term standing alone: it matches calls whose
// method or metadata (a header's name or value) holds it, in any case.
type searchNode struct{ term string }

// search reads a search term where a comparison would start: quoted text,
// or a word that names no field, either followed by the end of the
// comparison. ok is false (and nothing is consumed) for anything else.
func (p *parser) search() (n node, ok bool, err error) {
	p.skipSpace()
	save := p.pos
	if p.pos >= len(p.s) {
		return nil, false, nil
	}
	quoted := p.s[p.pos] == '"' || p.s[p.pos] == '\''
	if !quoted {
		head, _, _ := strings.Cut(strings.ToLower(p.peekWord()), ".")
		if _, isField := fields[head]; isField || head == "" {
			return nil, false, nil
		}
	}
	v, _, err := p.value()
	if err != nil {
		return nil, false, err
	}
	if v == "" || !p.atEndOfComparison() {
		p.pos = save
		return nil, false, nil
	}
	return searchNode{term: v}, true, nil
}

func (n searchNode) match(c *grpcframe.Call, _ *Expr) bool {
	if containsFold(c.Method, n.term) {
		return true
	}
	for _, hs := range [][]h2decode.HeaderField{c.RequestHeaders, c.ResponseHeaders, c.Trailers} {
		for i := range hs {
			f := &hs[i]
			if !f.NameUnknown && containsFold(f.Name, n.term) || !f.ValueUnknown && containsFold(f.Value, n.term) {
				return true
			}
		}
	}
	return false
}

// containsFold reports whether s holds term, ignoring case, without
// allocating (it runs over every header of every call).
func containsFold(s, term string) bool {
	for i := 0; i+len(term) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(term)], term) {
			return true
		}
	}
	return false
}
