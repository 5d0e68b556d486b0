package spechelpers

import (
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/luahost/luahost/luavm"
)

// An http_mock route's ngx.say of a table holding itself raises "table
// nested too deeply" and one of an array shared 2^40 ways "no memory", as
// the real ngx.say, instead of a Go stack overflow or an exhausted memory
// that end the spec run.
func TestHTTPMockSayCyclicTable(t *testing.T) {
	L := luavm.NewState(luavm.Options{})
	m, err := NewHTTPMock(0, []MockRoute{{Path: "/", Content: `
		local cyc = { "a" } cyc[2] = cyc
		local dag = { "x" } for _ = 1, 40 do dag = { dag, dag } end
		local _, e1 = pcall(ngx.say, cyc)
		local _, e2 = pcall(ngx.say, dag)
		ngx.say(e1, "|", e2)`}}, MockLogOpts{}, L, L.Close)
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	defer m.Stop()
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(m.Port()) + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	const want = "http_mock / content:4: table nested too deeply|http_mock / content:5: no memory\n"
	if resp.StatusCode != 200 || string(body) != want {
		t.Errorf("%d %.200q", resp.StatusCode, body)
	}
}
