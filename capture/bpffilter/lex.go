package bpffilter

import (
	"fmt"
	"strings"
)

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

// lex splits the expression into tokens. Inside brackets (byte offsets
// such as "tcp[13:1]") ':' and '-' are punctuation; outside they belong to
// words (IPv6 addresses, port ranges, "tcp-syn"), as with libpcap's scanner.
func lex(s string) ([]token, error) {
	var toks []token
	depth := 0
	for i := 0; i < len(s); {
		c := s[i]
		two := ""
		if i+1 < len(s) {
			two = s[i : i+2]
		}
		tok := func(k tokKind, text string) {
			toks = append(toks, token{k, text, i + 1})
			i += len(text)
		}
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			tok(tLParen, "(")
		case c == ')':
			tok(tRParen, ")")
		case c == '[':
			depth++
			tok(tLBrack, "[")
		case c == ']':
			depth--
			tok(tRBrack, "]")
		case c == ':' && depth > 0:
			tok(tColon, ":")
		case c == '/':
			tok(tSlash, "/")
		case two == "&&":
			tok(tAnd, "&&")
		case two == "||":
			tok(tOr, "||")
		case two == "!=" || two == "==" || two == ">=" || two == "<=":
			tok(tRel, two)
		case two == "<<" || two == ">>":
			tok(tOp, two)
		case c == '!':
			tok(tNot, "!")
		case c == '>' || c == '<' || c == '=':
			tok(tRel, string(c))
		case strings.IndexByte("+-*%&|^", c) >= 0:
			// A '-' inside a word was consumed with it (outside
			// brackets); one that starts a token is an operator.
			tok(tOp, string(c))
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) && !(depth > 0 && (s[j] == ':' || s[j] == '-')) {
				j++
			}
			tok(tWord, s[i:j])
		default:
			return nil, &Error{Pos: i + 1, Msg: fmt.Sprintf("unexpected character %q", c)}
		}
	}
	toks = append(toks, token{kind: tEOF, pos: len(s) + 1})
	return toks, nil
}
