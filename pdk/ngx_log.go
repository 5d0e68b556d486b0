package pdk

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

// nginx log levels (ngx.STDERR .. ngx.DEBUG): a lower number is more severe.
const (
	LogStderr = iota
	LogEmerg
	LogAlert
	LogCrit
	LogErr
	LogWarn
	LogNotice
	LogInfo
	LogDebug
)

// logLevelNames are nginx's names, indexed by level.
var logLevelNames = [...]string{"stderr", "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"}

// slogLevels maps nginx levels onto slog levels; the nginx name travels in
// the "level_name" attribute.
var slogLevels = [...]slog.Level{
	slog.LevelError + 12, slog.LevelError + 12, slog.LevelError + 8, slog.LevelError + 4,
	slog.LevelError, slog.LevelWarn, slog.LevelInfo + 2, slog.LevelInfo, slog.LevelDebug,
}

// ParseLogLevel reads a kong.conf log_level ("debug" .. "emerg"); unknown
// names read as notice, Kong's default.
func ParseLogLevel(s string) int {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return LogDebug
	case "info":
		return LogInfo
	case "warn":
		return LogWarn
	case "error", "err":
		return LogErr
	case "crit":
		return LogCrit
	case "alert":
		return LogAlert
	case "emerg":
		return LogEmerg
	}
	return LogNotice
}

// logLevel is the configured level, read once.
func (r *Root) logLevel() int {
	r.levelOnce.Do(func() {
		r.level = LogNotice
		if r.Conf != nil {
			r.level = ParseLogLevel(r.Conf.Get("log_level"))
		}
	})
	return r.level
}

// LogEnabled reports whether a line at the nginx level lvl would be written.
func (r *Root) LogEnabled(lvl int) bool { return lvl <= r.logLevel() }

// Log writes one line at the nginx level lvl, unfiltered.
func (r *Root) Log(lvl int, msg string) { r.logRequest(lvl, msg, "") }

// logRequest is Log with the request id of the request the line comes
// from ("" for none).
func (r *Root) logRequest(lvl int, msg, requestID string) {
	lg := r.Logger
	if lg == nil {
		lg = slog.Default()
	}
	if lvl < 0 || lvl >= len(slogLevels) {
		lvl = LogErr
	}
	if requestID != "" {
		lg.LogAttrs(context.Background(), slogLevels[lvl], msg, slog.String("level_name", logLevelNames[lvl]),
			slog.String("request_id", requestID))
		return
	}
	lg.LogAttrs(context.Background(), slogLevels[lvl], msg, slog.String("level_name", logLevelNames[lvl]))
}

// Log writes one line of this worker at the nginx level lvl, unfiltered,
// with the id of the request it serves, if any.
func (in *Instance) Log(lvl int, msg string) { in.Root.logRequest(lvl, msg, in.RequestID) }

// callerWhere describes the Lua function level frames up (1 = the caller of
// the running Go function): the base name of its chunk, the current line and
// the function's name ("" when unknown).
func callerWhere(L *lua.LState, level int) (file string, line int, fname string) {
	dbg, ok := L.GetStack(level)
	if !ok {
		return "?", 0, ""
	}
	if _, err := L.GetInfo("Sln", dbg, lua.LNil); err != nil {
		return "?", 0, ""
	}
	file = dbg.Source
	if i := strings.LastIndexByte(file, '/'); i >= 0 {
		file = file[i+1:]
	}
	if file == "" {
		file = "?"
	}
	return file, dbg.CurrentLine, dbg.Name
}

// ngxLog is ngx.log(level, ...): like nginx's ngx_http_lua log_wrapper, the
// line reads "[lua] <file>:<line>: <func>(): <args concatenated>".
func (in *Instance) ngxLog(L *lua.LState) int {
	lvl := L.CheckInt(1)
	if lvl < LogStderr || lvl > LogDebug {
		L.RaiseError("bad log level")
	}
	if !in.Root.LogEnabled(lvl) {
		return 0
	}
	var b strings.Builder
	b.WriteString("[lua] ")
	file, line, fname := callerWhere(L, 1)
	b.WriteString(file)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(line))
	b.WriteString(": ")
	if fname != "" && fname != "?" && fname != "main chunk" {
		b.WriteString(fname)
		b.WriteString("(): ")
	}
	for i := 2; i <= L.GetTop(); i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			b.WriteString(string(v))
		case lua.LNumber:
			b.WriteString(luavm.FormatNumber(float64(v)))
		case *lua.LNilType:
			b.WriteString("nil")
		case lua.LBool:
			if v {
				b.WriteString("true")
			} else {
				b.WriteString("false")
			}
		case *lua.LUserData:
			if bind.IsNull(v) {
				b.WriteString("null")
			} else {
				bind.ArgError(L, i, "log", "expected table to have __tostring metamethod")
			}
		case *lua.LTable:
			if L.GetMetaField(v, "__tostring") == lua.LNil {
				bind.ArgError(L, i, "log", "expected table to have __tostring metamethod")
			}
			b.WriteString(luavm.TostringValue(L, v).String())
		default:
			bind.ArgError(L, i, "log", "string, number, boolean, or nil expected, got "+v.Type().String())
		}
	}
	in.Log(lvl, b.String())
	return 0
}
