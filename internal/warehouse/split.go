package warehouse

import "strings"

// SplitStatements splits a migration file into statements on semicolons that
// are outside quotes and comments. Comment-only fragments are dropped. Both
// dialects get one statement per round trip this way (Snowflake needs a
// parameter for multi-statement requests).
func SplitStatements(script string) []string {
	var out []string
	var b strings.Builder
	inSingle, inDouble, inLine, inBlock := false, false, false, false
	flush := func() {
		s := strings.TrimSpace(b.String())
		b.Reset()
		if s != "" && !onlyComments(s) {
			out = append(out, s)
		}
	}
	for i := 0; i < len(script); i++ {
		c := script[i]
		next := byte(0)
		if i+1 < len(script) {
			next = script[i+1]
		}
		switch {
		case inLine:
			if c == '\n' {
				inLine = false
			}
		case inBlock:
			if c == '*' && next == '/' {
				inBlock = false
				b.WriteByte(c)
				i++
				c = next
			}
		case inSingle:
			if c == '\'' {
				inSingle = false
			}
		case inDouble:
			if c == '"' {
				inDouble = false
			}
		default:
			switch {
			case c == '-' && next == '-':
				inLine = true
			case c == '/' && next == '*':
				inBlock = true
			case c == '\'':
				inSingle = true
			case c == '"':
				inDouble = true
			case c == ';':
				flush()
				continue
			}
		}
		b.WriteByte(c)
	}
	flush()
	return out
}

func onlyComments(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "--") {
			return false
		}
	}
	return true
}
