-- spec.hybrid (stands in for Kong's spec/hybrid.lua, which Kong 3.9's own
-- plugin specs wrap themselves in): run_for_each_deploy runs the spec body
-- once per strategy in the traditional deployment, with helpers patched as
-- Kong's are (start_kong, stop_kong, clean_logfile, get_prefix_for,
-- wait_for_all_config_update, format_tags, reload_helpers, data_plane).
-- luahost has no hybrid mode (no control plane, no data plane, no
-- clustering), so each hybrid deployment Kong would run (three per
-- database strategy: rpc off, rpc on, rpc and rpc_sync on) is reported as
-- a pending test naming the reason: never run, never counted as passed.
local helpers = require "spec.helpers"

local function patched_helpers(strategy, deploy, rpc, rpc_sync, opts)
  local h = {}
  local prefix = nil
  h.data_plane = nil
  h.control_plane = nil

  function h.wait_for_all_config_update(wait_opts)
    if strategy ~= "off" then
      local copy = {}
      for k, v in pairs(wait_opts or {}) do copy[k] = v end
      helpers.wait_for_all_config_update(copy)
    end
  end

  function h.start_kong(env, tables, preserve_prefix, fixtures)
    local ret, v = helpers.start_kong(env, tables, preserve_prefix, fixtures)
    if ret then
      prefix = (env and env.prefix) or helpers.test_conf.prefix
    end
    h.data_plane = helpers.get_running_conf(prefix)
    if strategy ~= "off" then
      h.wait_for_all_config_update()
    end
    return ret, v
  end

  function h.stop_kong(pfx, preserve_prefix, preserve_dc, signal, nowait)
    local ret, v = helpers.stop_kong(pfx, preserve_prefix, preserve_dc, signal, nowait)
    prefix = nil
    h.control_plane = nil
    h.data_plane = nil
    return ret, v
  end

  function h.clean_logfile(logfile)
    return helpers.clean_logfile(logfile)
  end

  function h.get_prefix_for(_)
    return prefix
  end

  function h.format_tags()
    local tags = "#" .. strategy .. " #" .. deploy
    if rpc == "on" then tags = tags .. " #rpc" end
    if rpc_sync == "on" then tags = tags .. " #rpc_sync" end
    return tags
  end

  function h.reload_helpers()
    return patched_helpers(strategy, deploy, rpc, rpc_sync, opts)
  end

  return setmetatable(h, { __index = helpers })
end

local HYBRID = { { "off", "off" }, { "on", "off" }, { "on", "on" } }

local function run_for_each_deploy(opts, fn)
  opts = opts or {}
  local iterator = opts.strategies_iterator or helpers.each_strategy
  for _, strategy in iterator() do
    fn(patched_helpers(strategy, "traditional", "off", "off", opts), strategy, "traditional", "off", "off")
    if strategy ~= "off" then
      -- Kong runs the body again on a control plane + data plane pair,
      -- per rpc combination; here each is one pending test
      for _, v in ipairs(HYBRID) do
        local h = patched_helpers(strategy, "hybrid", v[1], v[2], opts)
        describe("[" .. h.format_tags() .. "]", function()
          pending("hybrid deployment not run: luahost has no hybrid mode (no control plane, "
            .. "no data plane, no clustering between nodes)")
        end)
      end
    end
  end
end

return {
  run_for_each_deploy = run_for_each_deploy,
}
