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

	child := exec.Command(os.Args[0])
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
	// No bound on ms here (latency belongs to benchmarks); the child polls
	// hourly, so only NOTIFY can have evicted the entity.
	t.Logf("the other process evicted the entity %.1f ms after the write was sent", ms)
}

func applyNode(c *conf.Config, settings string) {
	p := strings.Split(settings, "|")
	for k, v := range map[string]string{"database": "postgres", "pg_host": p[0], "pg_port": p[1], "pg_user": p[2],
		"pg_database": p[3], "pg_notify": "on", "db_update_frequency": "5", "worker_max": "2"} {
		c.Set(k, v, "test")
	}
}

// TestMain runs this test binary as the second node of
// TestTwoProcessesInvalidateEachOther when started as one (nodeEnv set):
// the child is not a test, so it is neither listed nor counted as one.
func TestMain(m *testing.M) {
	if settings := os.Getenv(nodeEnv); settings != "" {
		os.Exit(nodeProcess(settings))
	}
	os.Exit(m.Run())
}

// nodeProcess caches the credential, says so, then watches its cache until
// the entity is evicted (which only NOTIFY can do: it polls hourly).
func nodeProcess(settings string) int {
	fail := func(err error) int { fmt.Println("NODE error:", err); return 1 }
	c := conf.New()
	c.Append("plugins_dir", "../plugins", "test")
	c.Set("lua_package_path", "", "test")
	c.Set("mem_cache_size", "4m", "test")
	applyNode(c, settings)
	c.Set("db_update_frequency", "3600", "test")
	h, err := New(Options{Conf: c, Logger: quietLogger()})
	if err != nil {
		return fail(err)
	}
	defer h.Close()
	ctx := context.Background()
	run := func(src string) (lua.LValue, error) {
		var v lua.LValue
		err := h.Pool.AcquireFunc(ctx, func(w *Worker) error {
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
		})
		return v, err
	}
	if _, err := run(`return (kong.cache:get(kong.db.token_credentials:cache_key("proc-key"), nil, function()
		return kong.db.token_credentials:select_by_key("proc-key")
	end))`); err != nil {
		return fail(err)
	}
	fmt.Println("NODE cached")
	start := time.Now()
	for {
		v, err := run(`local _, _, v = kong.cache:probe(kong.db.token_credentials:cache_key("proc-key")) return v ~= nil`)
		if err != nil {
			return fail(err)
		}
		if v != lua.LTrue {
			break
		}
		if time.Since(start) > 30*time.Second {
			return fail(fmt.Errorf("never evicted"))
		}
		time.Sleep(time.Millisecond) // polling interval
	}
	// The parent writes right after reading "cached": the time from here
	// bounds the eviction latency from above.
	fmt.Printf("NODE evicted %.1f\n", float64(time.Since(start).Microseconds())/1000)
	return 0
}
