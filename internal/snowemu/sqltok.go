package snowemu

import (
	"strings"
)

// tokKind classifies a lexical token of Snowflake SQL.
type tokKind int

const (
	tWord   tokKind = iota // identifier or keyword, letters, digits, _ and $ ($1 too)
	tQuoted                // "identifier"
	tString                // 'literal'
	tNumber
	tSymbol // ( ) , . ; ? :: : operators
	tSpace  // whitespace and comments
)

type token struct {
	kind tokKind
	text string
}

func (t token) upper() string { return strings.ToUpper(t.text) }

func (t token) is(words ...string) bool {
	if t.kind != tWord {
		return false
	}
	for _, w := range words {
		if strings.EqualFold(t.text, w) {
			return true
		}
	}
	return false
}

func (t token) sym(s string) bool { return t.kind == tSymbol && t.text == s }

func isWordByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '$':
		return true
	case c >= '0' && c <= '9':
		return !first
	}
	return c >= 0x80
}

// tokenize splits SQL into tokens; joining their texts gives the input back.
func tokenize(s string) []token {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		j := i + 1
		kind := tSymbol
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			for j < len(s) && strings.IndexByte(" \t\n\r", s[j]) >= 0 {
				j++
			}
			kind = tSpace
		case c == '-' && j < len(s) && s[j] == '-':
			for j < len(s) && s[j] != '\n' {
				j++
			}
			kind = tSpace
		case c == '/' && j < len(s) && s[j] == '*':
			if k := strings.Index(s[j:], "*/"); k >= 0 {
				j += k + 2
			} else {
				j = len(s)
			}
			kind = tSpace
		case c == '\'':
			for j < len(s) {
				if s[j] == '\\' {
					j += 2
					continue
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j += 2
						continue
					}
					j++
					break
				}
				j++
			}
			kind = tString
		case c == '"':
			for j < len(s) && s[j] != '"' {
				j++
			}
			j++
			kind = tQuoted
		case c >= '0' && c <= '9':
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			kind = tNumber
		case isWordByte(c, true):
			for j < len(s) && isWordByte(s[j], false) {
				j++
			}
			kind = tWord
		case c == ':' && j < len(s) && s[j] == ':':
			j++
		case c == '-' && j < len(s) && s[j] == '>':
			j++
			if j < len(s) && s[j] == '>' {
				j++
			}
		case (c == '<' || c == '>' || c == '!' || c == '|') && j < len(s) && (s[j] == '=' || s[j] == '>' || s[j] == '|'):
			j++
		}
		if j > len(s) {
			j = len(s)
		}
		out = append(out, token{kind, s[i:j]})
		i = j
	}
	return out
}

func join(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.text)
	}
	return b.String()
}

// words returns the non-space tokens, for matching a statement's shape.
func words(toks []token) []token {
	out := make([]token, 0, len(toks))
	for _, t := range toks {
		if t.kind != tSpace {
			out = append(out, t)
		}
	}
	return out
}

// unquote returns a string literal's value.
func unquote(t token) string {
	s := strings.TrimSuffix(strings.TrimPrefix(t.text, "'"), "'")
	return strings.ReplaceAll(s, "''", "'")
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// identName is an identifier's Snowflake name: unquoted ones fold to upper
// case, quoted ones keep theirs.
func identName(t token) string {
	if t.kind == tQuoted {
		return strings.Trim(t.text, `"`)
	}
	return strings.ToUpper(t.text)
}

// matching returns the index of the parenthesis closing the one at i.
func matching(toks []token, i int) int {
	depth := 0
	for j := i; j < len(toks); j++ {
		switch {
		case toks[j].sym("("):
			depth++
		case toks[j].sym(")"):
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// next returns the index of the next non-space token after i (len if none).
func next(toks []token, i int) int {
	for j := i + 1; j < len(toks); j++ {
		if toks[j].kind != tSpace {
			return j
		}
	}
	return len(toks)
}

func prev(toks []token, i int) int {
	for j := i - 1; j >= 0; j-- {
		if toks[j].kind != tSpace {
			return j
		}
	}
	return -1
}
