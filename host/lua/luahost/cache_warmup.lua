-- luahost's stand-in for Kong's `kong.cache.warmup` (execute only): the
-- entities named by db_cache_warmup_entities are read from the database
-- into the cache their rows live in (constants.ENTITY_CACHE_STORE: kong.cache
-- or kong.core_cache) under their DAO's cache_key, when worker 0 starts on
-- a database node, as Kong's init_worker does. Routes and plugins are
-- skipped as Kong skips them (the router and the plugins iterator hold
-- them); an ACL row also warms its consumer's groups (the acl plugin's
-- warmup_groups_cache), as Kong's does when the acl plugin is there.
-- Not covered: Kong's DNS warmup of the services' hostnames (luahost's
-- resolver caches on first use).

local constants = require "kong.constants"

local _M = {}

local function single_dao(dao, acl_groups)
  local name = dao.schema.name
  local store = constants.ENTITY_CACHE_STORE[name]
  local cache = kong[store]
  if not cache then
    return true
  end
  ngx.log(ngx.NOTICE, "Preloading '", name, "' into the ", store, "...")
  local page_size = dao.pagination and dao.pagination.max_page_size
  for entity, err in dao:each(page_size) do
    if err then
      return nil, err
    end
    local ok, serr = cache:safe_set(dao:cache_key(entity), entity)
    if not ok then
      return nil, serr
    end
    if name == "acls" and acl_groups then
      local _, gerr = acl_groups.warmup_groups_cache(entity.consumer.id)
      if gerr then
        ngx.log(ngx.NOTICE, "warmup acl groups cache for consumer id: ", entity.consumer.id, " err: ", gerr)
      end
    end
  end
  ngx.log(ngx.NOTICE, "finished preloading '", name, "' into the ", store)
  return true
end

-- execute(names): true, or nil and the error that stopped it
function _M.execute(names)
  if not kong.cache or not kong.core_cache or not kong.db then
    return true
  end
  local ok_groups, acl_groups = pcall(require, "kong.plugins.acl.groups")
  if not ok_groups then
    acl_groups = nil
  end
  for _, name in ipairs(names) do
    if name == "routes" or name == "plugins" then
      ngx.log(ngx.NOTICE, "the '", name, "' entity is ignored in the list of ",
              "'db_cache_warmup_entities': Kong keeps it in memory separately")
    else
      local dao = kong.db[name]
      if not (type(dao) == "table" and dao.schema) then
        ngx.log(ngx.WARN, name, " is not a valid entity name, please check ",
                "the value of 'db_cache_warmup_entities'")
      else
        local ok, err = single_dao(dao, acl_groups)
        if not ok then
          if err == "no memory" then
            ngx.log(ngx.WARN, "cache warmup has been stopped because cache memory is exhausted, ",
                    "please consider increasing the value of 'mem_cache_size'")
            return true
          end
          return nil, err
        end
      end
    end
  end
  return true
end

-- run(names): execute, a failure logged as Kong's init_worker logs it
function _M.run(names)
  local ok, err = _M.execute(names)
  if not ok then
    ngx.log(ngx.ERR, "failed to warm up the DB cache: ", err)
  end
end

return _M
