package admin

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestBadInput(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		// NUL bytes and SQL metacharacters in every kind of field
		for _, v := range []string{"a\x00b", "'; DROP TABLE consumers; --", `"\`} {
			r := n.do("POST", "/consumers", M{"username": v, "custom_id": v, "tags": []string{v}})
			if r.Status >= 500 {
				t.Fatalf("%q: %d %s", v, r.Status, r.Raw)
			}
		}
		// a body over the limit
		// (announced: the server answers before the client could send it)
		conn, err := net.Dial("tcp", strings.TrimPrefix(n.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /consumers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", DefaultMaxBodySize+1)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
		if res.StatusCode != 413 {
			t.Fatalf("huge body: %d", res.StatusCode)
		}
		// a large string under the limit is stored and read back
		long := strings.Repeat("y", 1<<20)
		n.must(201, "POST", "/consumers", M{"username": "writer"})
		note := n.must(201, "POST", "/consumers/writer/note", M{"title": "long", "body": long})
		if got := n.must(200, "GET", "/notes/"+str(note["id"]), nil); got["body"] != long {
			t.Fatal("long body not read back")
		}
		// wrong types everywhere: 400, never 500
		for _, b := range []M{{"username": 1}, {"username": M{}}, {"tags": "x", "username": "t"}, {"username": []any{nil}}} {
			if r := n.do("POST", "/consumers", b); r.Status != 400 {
				t.Fatalf("%v: %d %s", b, r.Status, r.Raw)
			}
		}
	})
}
