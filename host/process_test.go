package host

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// nodeEnv carries a child node's database settings.
const nodeEnv = "LUAHOST_TEST_NODE"

// Two luahost processes on one PostgreSQL: this test process writes
// through its DAO; a second process (this test binary re-run as a node)
// has the entity cached and reports how long the eviction took.
func TestTwoProcessesInvalidateEachOther(t *testing.T) {
	if os.Getenv(nodeEnv) != "" {
		t.Skip("inside the child node")
	}
	cfg := pgtest.NewDatabase(t)
	ctx := context.Background()
	var out bytes.Buffer
	conn := freshConnectorFor(t, cfg)
	_, m := migrator(t, "../plugins", conn, &out)
	if err := m.Bootstrap(ctx, false); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	settings := fmt.Sprintf("%s|%d|%s|%s", cfg.Host, cfg.Port, cfg.User, cfg.Database)
	c := testConf(t, "../plugins")
	applyNode(c, settings)
	a := newTestHost(t, c)
	consumer, err := a.Root.DB.DAO("consumers").Insert(ctx, map[string]any{"username": "dave"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := a.Root.DB.DAO("token_credentials").Insert(ctx, map[string]any{
		"consumer": map[string]any{"id": consumer["id"]}, "key": "proc-key"}, nil)
	if err != nil {
		t.Fatal(err)
	}

	child := exec.Command(os.Args[0], "-test.run=^TestNodeProcess$", "-test.v")
	child.Env = append(os.Environ(), nodeEnv+"="+settings)
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	wait := func(prefix string) string {
		deadline := time.After(30 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("child node exited before %q", prefix)
				}
				if i := strings.Index(l, prefix); i >= 0 {
					return l[i:]
				}
			case <-deadline:
				t.Fatalf("child node never said %q", prefix)
			}
		}
	}
	wait("NODE cached")
	if _, err := a.Root.DB.DAO("token_credentials").Update(ctx, map[string]any{"id": cred["id"]},
		map[string]any{"label": "changed by the first process"}, nil); err != nil {
		t.Fatal(err)
	}
	got := wait("NODE evicted")
	var ms float64
	if _, err := fmt.Sscanf(got, "NODE evicted %f", &ms); err != nil {
		t.Fatalf("child said %q", got)
	}
	t.Logf("the other process evicted the entity %.1f ms after the write was sent", ms)
	if ms > 500 {
		t.Fatalf("eviction took %.1f ms with LISTEN/NOTIFY (polling every 5 s)", ms)
	}
}

func applyNode(c *conf.Config, settings string) {
	p := strings.Split(settings, "|")
	for k, v := range map[string]string{"database": "postgres", "pg_host": p[0], "pg_port": p[1], "pg_user": p[2],
		"pg_database": p[3], "pg_notify": "on", "db_update_frequency": "5", "worker_max": "2"} {
		c.Set(k, v, "test")
	}
}

// TestNodeProcess is the second node of TestTwoProcessesInvalidateEachOther:
// it caches the credential, says so, then watches its cache.
func TestNodeProcess(t *testing.T) {
	settings := os.Getenv(nodeEnv)
	if settings == "" {
		t.Skip("only run as a child node")
	}
	c := testConf(t, "../plugins")
	applyNode(c, settings)
	h := newTestHost(t, c)
	ctx := context.Background()
	run := func(src string) lua.LValue {
		var v lua.LValue
		if err := h.Pool.AcquireFunc(ctx, func(w *Worker) error {
			fn, err := w.L.LoadString(src)
			if err != nil {
				return err
			}
			if err := w.call(fn, 1); err != nil {
				return err
			}
			v = w.L.Get(-1)
			w.L.Pop(1)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return v
	}
	run(`return (kong.cache:get(kong.db.token_credentials:cache_key("proc-key"), nil, function()
		return kong.db.token_credentials:select_by_key("proc-key")
	end))`)
	fmt.Println("NODE cached")
	start := time.Now()
	for run(`local _, _, v = kong.cache:probe(kong.db.token_credentials:cache_key("proc-key")) return v ~= nil`) == lua.LTrue {
		if time.Since(start) > 20*time.Second {
			t.Fatal("never evicted")
		}
		time.Sleep(time.Millisecond)
	}
	// The parent writes right after reading "cached": the time from here
	// bounds the eviction latency from above.
	fmt.Printf("NODE evicted %.1f\n", float64(time.Since(start).Microseconds())/1000)
}
