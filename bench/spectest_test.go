package bench

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// The plugin repository the spec benchmarks run in: a plugin in the
// template's layout (kong/plugins/greeter, a rockspec) with a schema spec,
// a unit spec and an integration spec over both strategies (6 proxied
// requests), and a spec loading nothing of the plugin.
const specRepo = "../cmd/luahost/testdata/pluginrepo"

var (
	buildOnce sync.Once
	luahost   string
	buildErr  error
)

// luahostBinary builds cmd/luahost once per benchmark process.
func luahostBinary(b *testing.B) string {
	b.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "luahost-bench-")
		if err != nil {
			buildErr = err
			return
		}
		luahost = filepath.Join(dir, "luahost")
		out, err := exec.Command("go", "build", "-o", luahost, "../cmd/luahost").CombinedOutput()
		if err != nil {
			buildErr = err
			b.Log(string(out))
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return luahost
}

// copyRepo copies the plugin repository to a temporary directory.
func copyRepo(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	err := filepath.WalkDir(specRepo, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(specRepo, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		b.Fatal(err)
	}
	return dir
}

// specEnv is the environment of a luahost test run: PostgreSQL at a fresh
// database of the test server (Kong's KONG_PG_* variables).
func specEnv(b *testing.B) []string {
	b.Helper()
	pg := pgtest.NewDatabase(b)
	env := []string{"KONG_DATABASE=", "KONG_PG_HOST=" + pg.Host, "KONG_PG_PORT=" + strconv.Itoa(pg.Port),
		"KONG_PG_USER=" + pg.User, "KONG_PG_PASSWORD=" + pg.Password, "KONG_PG_DATABASE=" + pg.Database}
	return append(os.Environ(), env...)
}

func runSuite(b *testing.B, bin, dir string, env []string, args ...string) {
	b.Helper()
	cmd := exec.Command(bin, append([]string{"test", "-o", "plainTerminal"}, args...)...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), " 0 failures / 0 errors") {
		b.Fatalf("luahost test %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// BenchmarkSpecSuite: one `luahost test` of the whole plugin repository,
// process start to exit, as a plugin author runs it (Pongo takes 50 s or
// more for the template). both: postgres and off, the database kept
// bootstrapped between runs (the first run, which bootstraps it, is
// reported as first-ms); off: --strategy off, no PostgreSQL.
func BenchmarkSpecSuite(b *testing.B) {
	bin := luahostBinary(b)
	for _, c := range []struct {
		name string
		args []string
	}{{"both", nil}, {"off", []string{"--strategy", "off"}}} {
		b.Run(c.name, func(b *testing.B) {
			dir := copyRepo(b)
			env := specEnv(b)
			start := time.Now()
			runSuite(b, bin, dir, env, c.args...)
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "first-ms")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				runSuite(b, bin, dir, env, c.args...)
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/suite")
		})
	}
}

// BenchmarkSpecWatch: `luahost test --watch` running; each iteration
// edits one spec file and waits for the closing line of the round that
// runs it again: from the edit on disk to the results printed (polling
// included). unit: the unit spec (requires the handler); integration: the
// integration spec, --strategy off (starts a node, three proxied
// requests).
func BenchmarkSpecWatch(b *testing.B) {
	bin := luahostBinary(b)
	for _, c := range []struct{ name, file string }{
		{"unit", "spec/greeter/02-unit_spec.lua"},
		{"integration", "spec/greeter/10-integration_spec.lua"},
	} {
		b.Run(c.name, func(b *testing.B) {
			dir := copyRepo(b)
			cmd := exec.Command(bin, "test", "--watch", "--strategy", "off", "-o", "plainTerminal")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "KONG_DATABASE=")
			pr, pw := io.Pipe()
			cmd.Stdout, cmd.Stderr = pw, pw
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			defer func() {
				cmd.Process.Signal(os.Interrupt)
				cmd.Wait()
				pw.Close()
			}()
			lines := make(chan string, 256)
			go func() {
				s := bufio.NewScanner(pr)
				for s.Scan() {
					lines <- s.Text()
				}
				close(lines)
			}()
			waitFor := func(what string) {
				for l := range lines {
					if strings.Contains(l, what) {
						return
					}
				}
				b.Fatalf("luahost test --watch ended before %q", what)
			}
			waitFor("waiting for changes")
			path := filepath.Join(dir, c.file)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					b.Fatal(err)
				}
				f.WriteString("\n-- edit " + strconv.Itoa(i) + "\n")
				f.Close()
				waitFor(" passed, 0 failed")
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/rerun")
		})
	}
}
