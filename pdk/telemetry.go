package pdk

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/bind"
)

// telemetryDisabled is kong.telemetry.log's answer while no plugin has
// enabled the "observability_logs" hook group (Kong's opentelemetry plugin
// does when it reports logs; luahost has no such hook).
const telemetryDisabled = "Telemetry logging is disabled: log entry will not be recorded. " +
	"Ensure the OpenTelemetry plugin is correctly configured to report logs in order to use this feature."

// newKongTelemetry is kong.telemetry (Kong's kong/pdk/telemetry.lua):
// log(plugin_name, plugin_config, message_type, message, attributes)
// checks its arguments as Kong does and, with no log hook enabled,
// answers Kong's nil and "Telemetry logging is disabled ...".
func (in *Instance) newKongTelemetry() *lua.LTable {
	L := in.L
	t := L.CreateTable(0, 1)
	t.RawSetString("log", L.NewFunction(func(L *lua.LState) int {
		checks := []struct {
			n        int
			typ      lua.LValueType
			optional bool
			msg      string
		}{
			{1, lua.LTString, false, "plugin_name must be a string"},
			{2, lua.LTTable, false, "plugin_config must be a table"},
			{3, lua.LTString, false, "message_type must be a string"},
			{4, lua.LTString, true, "message must be a string"},
			{5, lua.LTTable, true, "attributes must be a table"},
		}
		for _, c := range checks {
			v := L.Get(c.n)
			if c.optional && !lua.LVAsBool(v) {
				continue
			}
			if v.Type() != c.typ {
				return bind.Fail(L, c.msg)
			}
		}
		return bind.Fail(L, telemetryDisabled)
	}))
	return t
}
