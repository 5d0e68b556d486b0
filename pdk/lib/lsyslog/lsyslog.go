// Package lsyslog is the module lsyslog (Kong's lua-syslog binding),
// Go-backed with log/syslog: open(ident, facility), log(level, message),
// close(), and the LOG_* level and FACILITY_* constants (syslog(3)'s
// values). Like syslog(3), log never fails: when no syslog daemon answers
// the message is dropped.
package lsyslog

import (
	"log/syslog"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
)

// lsyslogNetwork and lsyslogAddr select the daemon ("" / "": the local
// one, /dev/log); tests point them at their own socket.
var lsyslogNetwork, lsyslogAddr = "", ""

type lsyslogState struct {
	mu       sync.Mutex
	ident    string
	facility syslog.Priority
	w        *syslog.Writer
	dialed   bool
}

func (s *lsyslogState) write(level syslog.Priority, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dialed {
		s.dialed = true
		w, err := syslog.Dial(lsyslogNetwork, lsyslogAddr, s.facility|syslog.LOG_INFO, s.ident)
		if err == nil {
			s.w = w
		}
	}
	if s.w == nil {
		return
	}
	switch level & 7 {
	case syslog.LOG_EMERG:
		s.w.Emerg(msg)
	case syslog.LOG_ALERT:
		s.w.Alert(msg)
	case syslog.LOG_CRIT:
		s.w.Crit(msg)
	case syslog.LOG_ERR:
		s.w.Err(msg)
	case syslog.LOG_WARNING:
		s.w.Warning(msg)
	case syslog.LOG_NOTICE:
		s.w.Notice(msg)
	case syslog.LOG_INFO:
		s.w.Info(msg)
	default:
		s.w.Debug(msg)
	}
}

func (s *lsyslogState) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w != nil {
		s.w.Close()
	}
	s.w, s.dialed = nil, false
}

// Open registers the preloaded module "lsyslog" in L.
func Open(L *lua.LState) {
	st := &lsyslogState{ident: "lua", facility: syslog.LOG_USER}
	L.PreloadModule("lsyslog", func(L *lua.LState) int {
		mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			"open": func(L *lua.LState) int {
				// arguments first: a raise with the lock held would leave
				// every later lsyslog call of the worker waiting for ever
				ident := luavm.CheckString(L, 1)
				facility := syslog.Priority(L.OptInt(2, int(syslog.LOG_USER)))
				st.close()
				st.mu.Lock()
				defer st.mu.Unlock()
				st.ident, st.facility = ident, facility
				return 0
			},
			"log": func(L *lua.LState) int {
				st.write(syslog.Priority(L.CheckInt(1)), luavm.CheckString(L, 2))
				return 0
			},
			"close": func(L *lua.LState) int {
				st.close()
				return 0
			},
		})
		for name, v := range map[string]syslog.Priority{
			"LOG_EMERG": syslog.LOG_EMERG, "LOG_ALERT": syslog.LOG_ALERT, "LOG_CRIT": syslog.LOG_CRIT,
			"LOG_ERR": syslog.LOG_ERR, "LOG_WARNING": syslog.LOG_WARNING, "LOG_NOTICE": syslog.LOG_NOTICE,
			"LOG_INFO": syslog.LOG_INFO, "LOG_DEBUG": syslog.LOG_DEBUG,
			"FACILITY_KERN": syslog.LOG_KERN, "FACILITY_USER": syslog.LOG_USER, "FACILITY_MAIL": syslog.LOG_MAIL,
			"FACILITY_DAEMON": syslog.LOG_DAEMON, "FACILITY_AUTH": syslog.LOG_AUTH, "FACILITY_SYSLOG": syslog.LOG_SYSLOG,
			"FACILITY_LPR": syslog.LOG_LPR, "FACILITY_NEWS": syslog.LOG_NEWS, "FACILITY_UUCP": syslog.LOG_UUCP,
			"FACILITY_CRON": syslog.LOG_CRON, "FACILITY_AUTHPRIV": syslog.LOG_AUTHPRIV, "FACILITY_FTP": syslog.LOG_FTP,
			"FACILITY_LOCAL0": syslog.LOG_LOCAL0, "FACILITY_LOCAL1": syslog.LOG_LOCAL1, "FACILITY_LOCAL2": syslog.LOG_LOCAL2,
			"FACILITY_LOCAL3": syslog.LOG_LOCAL3, "FACILITY_LOCAL4": syslog.LOG_LOCAL4, "FACILITY_LOCAL5": syslog.LOG_LOCAL5,
			"FACILITY_LOCAL6": syslog.LOG_LOCAL6, "FACILITY_LOCAL7": syslog.LOG_LOCAL7,
		} {
			mod.RawSetString(name, lua.LNumber(v))
		}
		L.Push(mod)
		return 1
	})
}
