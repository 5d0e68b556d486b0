package lsyslog_test

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/luahost/luahost/pdk/lib/lsyslog"
	"github.com/luahost/luahost/pdk/pdktest"
)

func TestLSyslog(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lsyslog.SetDaemon("unixgram", sock)
	defer lsyslog.SetDaemon("", "")

	in, _ := pdktest.New(t)
	if got := pdktest.Str(t, in, `local s = require "lsyslog"
		return s.LOG_EMERG .. "," .. s.LOG_DEBUG .. "," .. s.FACILITY_USER .. "," .. s.FACILITY_LOCAL7 .. "," .. s.FACILITY_AUTHPRIV`); got != "0,7,8,184,80" {
		t.Fatalf("constants: %s", got)
	}
	pdktest.Run(t, in, "log.lua", `local s = require "lsyslog"
		s.open("kong", s.FACILITY_LOCAL0)
		s.log(s.LOG_WARNING, '{"a":1}')
		s.close()`)
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	msg := string(buf[:n])
	// local0 (16<<3 = 128) | warning (4) = 132
	if !strings.HasPrefix(msg, "<132>") || !strings.Contains(msg, "kong[") || !strings.HasSuffix(strings.TrimSpace(msg), `{"a":1}`) {
		t.Errorf("syslog message = %q", msg)
	}
	// no daemon: log is silent
	lsyslog.SetDaemon("unixgram", filepath.Join(t.TempDir(), "none.sock"))
	pdktest.Run(t, in, "log2.lua", `local s = require "lsyslog" s.open("x", s.FACILITY_USER) s.log(s.LOG_ERR, "dropped")`)
}

// A raise in open (a bad ident) leaves no lock held: the worker's later
// lsyslog calls still run. On the code that locked before checking its
// arguments, close() below waited for ever.
func TestLSyslogOpenRaiseLeavesNoLock(t *testing.T) {
	lsyslog.SetDaemon("unixgram", filepath.Join(t.TempDir(), "none.sock"))
	defer lsyslog.SetDaemon("", "")
	in, _ := pdktest.New(t)
	done := make(chan string, 1)
	go func() {
		done <- pdktest.Str(t, in, `local s = require "lsyslog"
			local ok, err = pcall(s.open, nil)
			assert(not ok)
			s.close()
			s.open("again", s.FACILITY_USER)
			s.log(s.LOG_ERR, "dropped")
			return "served"`)
	}()
	select {
	case got := <-done:
		if got != "served" {
			t.Fatal(got)
		}
	case <-time.After(20 * time.Second): // a hang, not a latency bound
		t.Fatal("lsyslog deadlocked after a raise in open")
	}
}
