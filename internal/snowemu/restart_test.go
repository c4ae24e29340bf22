package snowemu

import (
	"context"
	"testing"

	"github.com/dropflow/dropflow/internal/warehouse/snowflake"
)

// A warehouse that restarts forgets its sessions (390111). The adapter must
// log in anew instead of retrying on the dead pooled sessions forever: the
// chaos test found every LoadPartition retry failing after an emulator kill.
func TestAdapterLogsInAgainAfterTheServerForgotItsSessions(t *testing.T) {
	dir := t.TempDir()
	users := []User{{Name: "dropflow", Password: "pw"}}
	s, err := Start(Options{Dir: dir, Account: "local", Users: users})
	if err != nil {
		t.Fatal(err)
	}
	wh := openAdapter(t, s, snowflake.Options{})
	ctx := context.Background()
	if _, err := wh.Migrate(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := wh.Offset(ctx, "t", 0); err != nil {
		t.Fatal(err)
	}
	port := s.Port()
	s.Close()
	s2, err := Start(Options{Dir: dir, Account: "local", Port: port, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	// The first statement may meet a forgotten session; a retry must not.
	_, _, first := wh.Offset(ctx, "t", 0)
	if _, _, err := wh.Offset(ctx, "t", 0); err != nil {
		t.Fatalf("after the restart (first attempt: %v), a retry still fails: %v", first, err)
	}
	t.Logf("first statement after the restart: %v", first)
}
