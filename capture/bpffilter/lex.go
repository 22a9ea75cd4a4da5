package bpffilter

import "fmt"

// tokKind classifies lexical tokens.
type tokKind int

const (
	tEOF    tokKind = iota
	tWord           // keyword, number, address or name
	tLParen         // (
	tRParen         // )
	tNot            // ! (the word "not" is a tWord)
	tAnd            // &&
	tOr             // ||
	tSlash          // / in NET/LEN, division in arithmetic
	tLBrack         // [
	tRBrack         // ]
	tColon          // : inside [ ]
	tOp             // arithmetic operator: + - * % & | ^ << >>
	tRel            // comparison: > >= < <= = == !=
)

type token struct {
	kind tokKind
	text string
	pos  int // 1-based column
}

func (t token) String() string {
	if t.kind == tEOF {
		return "end of filter"
	}
	return fmt.Sprintf("%q", t.text)
}

// isWordByte reports whether c can be part of a word. Words cover keywords,
// decimal/hex numbers, dotted IPv4, IPv6 (colons) and "A-B" port ranges, the
// same characters libpcap's scanner accepts in those tokens.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == ':' || c == '-' || c == '_'
}

// twoCharSymbols and oneCharSymbols are the tokens other than words, by
// their text; two characters are looked for first, so that "<=" is not
// "<" and "=". A '-' inside a word is consumed with it (outside
// brackets); one that starts a token is an operator. ':' is a word byte
// outside brackets and punctuation inside them, so it is in neither.
var (
	twoCharSymbols = map[string]tokKind{
		"&&": tAnd, "||": tOr,
		"!=": tRel, "==": tRel, ">=": tRel, "<=": tRel,
		"<<": tOp, ">>": tOp,
	}
	oneCharSymbols = map[byte]tokKind{
		'(': tLParen, ')': tRParen, '[': tLBrack, ']': tRBrack, '/': tSlash, '!': tNot,
		'>': tRel, '<': tRel, '=': tRel,
		'+': tOp, '-': tOp, '*': tOp, '%': tOp, '&': tOp, '|': tOp, '^': tOp,
	}
)

// symbolAt returns the token other than a word that s starts with, or ok
// false if there is none.
func symbolAt(s string) (k tokKind, text string, ok bool) {
	if len(s) > 1 {
		if k, ok := twoCharSymbols[s[:2]]; ok {
			return k, s[:2], true
		}
	}
	k, ok = oneCharSymbols[s[0]]
	return k, s[:1], ok
}

// lex splits the expression into tokens. Inside brackets (byte offsets
// such as "tcp[13:1]") ':' and '-' are punctuation; outside they belong to
// words (IPv6 addresses, port ranges, "tcp-syn"), as with libpcap's scanner.
func lex(s string) ([]token, error) {
	var toks []token
	depth := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		k, text, ok := symbolAt(s[i:])
		switch {
		case ok: // punctuation or an operator
		case c == ':' && depth > 0:
			k, text = tColon, ":"
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) && !(depth > 0 && (s[j] == ':' || s[j] == '-')) {
				j++
			}
			k, text = tWord, s[i:j]
		default:
			return nil, &Error{Pos: i + 1, Msg: fmt.Sprintf("unexpected character %q", c)}
		}
		switch k {
		case tLBrack:
			depth++
		case tRBrack:
			depth--
		}
		toks = append(toks, token{k, text, i + 1})
		i += len(text)
	}
	toks = append(toks, token{kind: tEOF, pos: len(s) + 1})
	return toks, nil
}
