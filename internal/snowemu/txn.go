package snowemu

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Explicit transactions, as SHOW TRANSACTIONS and SYSTEM$ABORT_TRANSACTION
// see them (https://docs.snowflake.com/en/sql-reference/sql/show-transactions,
// https://docs.snowflake.com/en/sql-reference/functions/system_abort_transaction).
// A client that dies inside a transaction leaves it open with its locks (its
// session lingers); here, as there, another session of the same user can
// abort it. Snowflake also aborts such a transaction once it has idled 5
// minutes while blocking another; the emulator does not.

type txnInfo struct {
	id      int64
	name    string
	started time.Time
}

// txns registers the sessions' open explicit transactions.
type txns struct {
	mu   sync.Mutex
	open map[*session]txnInfo
	last int64
}

func (t *txns) begin(ss *session, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.open == nil {
		t.open = map[*session]txnInfo{}
	}
	// Snowflake's ids are epoch milliseconds; keep them increasing.
	id := max(time.Now().UnixMilli(), t.last+1)
	t.last = id
	t.open[ss] = txnInfo{id: id, name: name, started: time.Now().UTC()}
}

func (t *txns) end(ss *session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.open, ss)
}

// beginName reads BEGIN [TRANSACTION | WORK] [NAME <name>] / START TRANSACTION [NAME <name>].
func beginName(w []token) (string, error) {
	i := 1
	if i < len(w) && (w[i].upper() == "TRANSACTION" || w[i].upper() == "WORK") {
		i++
	}
	if i == len(w) {
		return "", nil
	}
	if w[i].upper() != "NAME" || i+2 != len(w) {
		return "", compileError("syntax error: want BEGIN [TRANSACTION] [NAME <name>]")
	}
	return strings.ToUpper(unquote(w[i+1])), nil
}

// showTransactions lists the user's open explicit transactions.
func (ss *session) showTransactions() *queryResult {
	t := &ss.eng.txns
	t.mu.Lock()
	defer t.mu.Unlock()
	res := &queryResult{stmtType: typeSelect, columns: []column{
		{name: "id", typ: "fixed", precision: 38}, {name: "user", typ: "text"}, {name: "session", typ: "fixed", precision: 38},
		{name: "name", typ: "text"}, {name: "started_on", typ: "text"}, {name: "state", typ: "text"}, {name: "scope", typ: "text"},
	}}
	str := func(s string) *string { return &s }
	for s, info := range t.open {
		if s.user != ss.user {
			continue
		}
		res.rows = append(res.rows, []*string{str(strconv.FormatInt(info.id, 10)), str(s.user), str(strconv.FormatInt(s.id, 10)),
			str(info.name), str(info.started.Format(time.RFC3339Nano)), str("running"), str("0")})
	}
	return res
}

// abortTransaction runs SELECT SYSTEM$ABORT_TRANSACTION(<id>): it rolls back
// the user's open transaction with that id, in whichever session holds it.
func (ss *session) abortTransaction(ctx context.Context, w []token) (*queryResult, error) {
	// SELECT SYSTEM$ABORT_TRANSACTION ( <integer> )
	if len(w) != 5 || !w[2].sym("(") || !w[4].sym(")") {
		return nil, compileError("SYSTEM$ABORT_TRANSACTION takes one integer constant")
	}
	id, err := strconv.ParseInt(w[3].text, 10, 64)
	if err != nil {
		return nil, compileError("SYSTEM$ABORT_TRANSACTION takes one integer constant, got %s", w[3].text)
	}
	t := &ss.eng.txns
	t.mu.Lock()
	var target *session
	for s, info := range t.open {
		if info.id == id && s.user == ss.user {
			target = s
		}
	}
	t.mu.Unlock()
	msg := fmt.Sprintf("Aborted transaction id: %d", id)
	switch {
	case target == nil:
		msg = fmt.Sprintf("Transaction id: %d is not running", id)
	case target == ss:
		if err := ss.rollback(ctx); err != nil {
			return nil, duckError(err)
		}
	default:
		// The owner is idle (or dead): wait for any statement it runs, then roll back.
		target.mu.Lock()
		err := target.rollback(ctx)
		target.mu.Unlock()
		if err != nil {
			return nil, duckError(err)
		}
	}
	col := "SYSTEM$ABORT_TRANSACTION(" + w[3].text + ")"
	return &queryResult{stmtType: typeSelect, columns: []column{{name: col, typ: "text"}}, rows: [][]*string{{&msg}}}, nil
}
