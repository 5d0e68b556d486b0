package migrations

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

func slowSubsystem() *Subsystem {
	var migs []*Migration
	for _, name := range []string{"000_slow", "001_slow", "002_slow"} {
		name := name
		migs = append(migs, &Migration{Name: name, UpFGo: func(ctx context.Context, c *postgres.Connector) error {
			if _, err := c.Query(ctx, fmt.Sprintf("INSERT INTO trace (what) VALUES ('start %s %d')", name, os.Getpid())); err != nil {
				return err
			}
			time.Sleep(200 * time.Millisecond)
			_, err := c.Query(ctx, fmt.Sprintf("INSERT INTO trace (what) VALUES ('end %s %d')", name, os.Getpid()))
			return err
		}})
	}
	return &Subsystem{Name: "slow", Namespace: "kong.plugins.slow.migrations", Migrations: migs}
}

// TestMain runs the child process of TestTwoProcessesUp when the test
// binary is started as one (LUAHOST_HELPER_DB set); the child is not a
// test, so it is neither listed nor counted as one.
func TestMain(m *testing.M) {
	if db := os.Getenv("LUAHOST_HELPER_DB"); db != "" {
		helperProcessUp(db)
	}
	os.Exit(m.Run())
}

// helperProcessUp runs `up` with slowSubsystem on database db and exits.
func helperProcessUp(db string) {
	cfg := pgtest.ServerConfig()
	cfg.Database = db
	c, err := postgres.Open(context.Background(), cfg)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	m := &Migrator{Conn: c, Subsystems: []*Subsystem{Core(), slowSubsystem()}, Out: os.Stdout,
		Owner: fmt.Sprint("pid-", os.Getpid())}
	if err := m.Up(context.Background(), false); err != nil {
		fmt.Println("up:", err)
		os.Exit(1)
	}
	_ = c.Close()
	os.Exit(0)
}

// Two OS processes run `up` at once on one database: the locks row keeps
// them from interleaving, and each migration runs once.
func TestTwoProcessesUp(t *testing.T) {
	ctx := context.Background()
	cfg := pgtest.NewDatabase(t)
	c, err := postgres.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := (&Migrator{Conn: c, Subsystems: []*Subsystem{Core()}}).Bootstrap(ctx, false); err != nil {
		t.Fatal(err)
	}
	mustQuery(t, c, `CREATE TABLE trace (n BIGSERIAL, what TEXT)`)

	var wg sync.WaitGroup
	outs := make([]string, 2)
	codes := make([]error, 2)
	for i := 0; i < 2; i++ {
		i := i
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.count=1")
			cmd.Env = append(os.Environ(), "LUAHOST_HELPER_DB="+cfg.Database)
			b, err := cmd.CombinedOutput()
			outs[i], codes[i] = string(b), err
		}()
	}
	wg.Wait()
	for i := range codes {
		if codes[i] != nil {
			t.Fatalf("process %d: %v\n%s", i, codes[i], outs[i])
		}
	}
	r := mustQuery(t, c, "SELECT what FROM trace ORDER BY n")
	if len(r.Rows) != 6 {
		t.Fatalf("trace: %v\n%s\n%s", r.Rows, outs[0], outs[1])
	}
	for i := 0; i < 6; i += 2 {
		s, e := r.Rows[i]["what"].(string), r.Rows[i+1]["what"].(string)
		if !strings.HasPrefix(s, "start ") || strings.TrimPrefix(s, "start ") != strings.TrimPrefix(e, "end ") {
			t.Fatalf("interleaved: %v", r.Rows)
		}
	}
	both := outs[0] + outs[1]
	// The other one either waited for the lock (not the leader) or, if it
	// started late, found the database up to date.
	if strings.Count(both, "slow migrated up to: 002_slow (executed)") != 1 ||
		!(strings.Contains(both, NotLeaderMsg) || strings.Contains(both, "Database is already up-to-date")) {
		t.Fatalf("outputs:\n%s\n----\n%s", outs[0], outs[1])
	}
}
