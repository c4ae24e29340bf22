// Command vulngate reads `govulncheck -format json` on stdin and fails when
// Dropflow's code calls a vulnerable symbol, except for the advisories listed
// with a reason in the allow file (no fixed version we can use, and why the
// call is safe). govulncheck itself has no such list.
//
//	govulncheck -format json ./... | go run ./internal/cmd/vulngate .govulncheck-allow
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

type message struct {
	Config  *json.RawMessage `json:"config"`
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: govulncheck -format json ./... | vulngate ALLOW_FILE")
		os.Exit(2)
	}
	if err := run(os.Stdin, os.Stdout, os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "vulngate:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer, allowPath string) error {
	allowed, err := readAllow(allowPath)
	if err != nil {
		return err
	}
	called := map[string]string{} // advisory -> what and where to fix
	dec := json.NewDecoder(in)
	scanned := false
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("read govulncheck output: %w", err)
		}
		scanned = scanned || m.Config != nil
		f := m.Finding
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" {
			continue // imported or required, not called
		}
		fix := f.FixedVersion
		if fix == "" {
			fix = "no fixed version"
		}
		called[f.OSV] = fmt.Sprintf("%s@%s (%s), fixed in %s", f.Trace[0].Module, f.Trace[0].Version, f.Trace[0].Function, fix)
	}
	if !scanned {
		return errors.New("no govulncheck output (did it fail?)")
	}
	var bad []string
	for id, what := range called {
		if reason, ok := allowed[id]; ok {
			fmt.Fprintf(out, "allowed %s: %s — %s\n", id, what, reason)
			continue
		}
		bad = append(bad, id+": "+what)
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		return fmt.Errorf("code calls %d vulnerable symbols:\n  %s", len(bad), strings.Join(bad, "\n  "))
	}
	fmt.Fprintf(out, "govulncheck: no vulnerable symbol called (%d allowed with a reason in %s)\n", len(called), allowPath)
	return nil
}

// readAllow reads "ID reason…" lines; # starts a comment. A line without a
// reason is refused: every exception says why.
func readAllow(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("allow file: %w", err)
	}
	defer f.Close()
	allowed := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		if strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("%s:%d: %s has no reason", path, n, id)
		}
		allowed[id] = strings.TrimSpace(reason)
	}
	return allowed, sc.Err()
}
