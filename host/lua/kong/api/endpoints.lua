-- luahost shim for Kong's `kong.api.endpoints` (3.x): the helpers a
-- plugin's api.lua calls and the generated endpoint functions, over
-- kong.db, answering with kong.response.exit as Kong does. Covers:
-- handle_error, extract_options, get_page_size, select/update/upsert/
-- delete/insert_entity, page_collection, get/post_collection_endpoint,
-- get/put/patch/delete_entity_endpoint, disable, new. The Admin API's own
-- generated endpoints are Go (luahost's admin package); these serve the
-- routes an api.lua defines or overrides (its `parent`).

local uuid = require "kong.tools.uuid"

local kong = kong
local null = ngx.null
local type = type
local pairs = pairs
local tostring = tostring
local tonumber = tonumber
local fmt = string.format
local escape_uri = ngx.escape_uri
local unescape_uri = ngx.unescape_uri

local HTTP_STATUS = {
  [1] = 400, [2] = 400, [3] = 400, [4] = 400, [5] = 409, [6] = 404,
  [7] = 400, [8] = 500, [9] = 400, [10] = 400, [11] = 400, [12] = 405,
  [13] = 400, [19] = 400,
}

local function exit_with(status, default, ...)
  local n = select("#", ...)
  local body
  if n == 1 then
    local v = ...
    if type(v) == "table" then
      body = v
    elseif v ~= nil then
      body = { message = tostring(v) }
    end
  elseif n > 1 then
    local parts = { ... }
    for i = 1, n do parts[i] = tostring(parts[i]) end
    body = { message = table.concat(parts) }
  end
  if body == nil and default then
    body = { message = default }
  end
  return kong.response.exit(status, body)
end

local function ok(...) return exit_with(200, nil, ...) end
local function created(...) return exit_with(201, nil, ...) end
local function no_content() return kong.response.exit(204) end
local function not_found(...) return exit_with(404, "Not found", ...) end
local function method_not_allowed() return kong.response.exit(405, { message = "Method not allowed" }) end
local function unexpected() return kong.response.exit(500, { message = "An unexpected error occurred" }) end

local function handle_error(err_t)
  if type(err_t) ~= "table" then
    kong.log.err(err_t)
    return unexpected()
  end
  err_t.strategy = nil
  local status = HTTP_STATUS[err_t.code]
  if not status or status == 500 then
    kong.log.err(tostring(err_t.message or err_t.name))
    return unexpected()
  end
  return kong.response.exit(status, err_t)
end

local function tags_options(options, tags)
  if type(tags) == "table" then
    tags = tags[1]
  end
  if type(tags) ~= "string" then
    options.tags = tags
    return
  end
  local valid = function(sep)
    if tags == "" or tags:sub(-1) == sep or tags:sub(1, 1) == sep or tags:find(sep .. sep, 1, true) then
      return false
    end
    for i = 1, #tags do
      local b = tags:byte(i)
      if b < 0x20 or b == 0x2C and sep ~= "," or b == 0x2F and sep ~= "/" or b > 0xF4 or b == 0x7F then
        return false
      end
    end
    return true
  end
  local sep
  if not tags:find("/", 1, true) and valid(",") then
    sep = ","
    options.tags_cond = "and"
  elseif not tags:find(",", 1, true) and valid("/") then
    sep = "/"
    options.tags_cond = "or"
  end
  if not sep then
    options.tags = tags
    return
  end
  local out = {}
  for t in (tags .. sep):gmatch("(.-)" .. (sep == "/" and "/" or ",")) do
    out[#out + 1] = t
  end
  options.tags = out
end

local function extract_options(db, args, schema, context)
  local options = {
    nulls = true,
    pagination = { page_size = 100, max_page_size = 1000 },
  }
  if args and schema and context then
    if schema.ttl == true and args.ttl ~= nil and
       (context == "insert" or context == "update" or context == "upsert") then
      options.ttl = args.ttl
      args.ttl = nil
    end
    if schema.fields.tags and args.tags ~= nil and context == "page" then
      if args.tags == null or (type(args.tags) == "table" and #args.tags == 0) then
        local msg = "cannot be null"
        return nil, msg, db[schema.name].errors:invalid_options({ tags = msg })
      end
      tags_options(options, args.tags)
      args.tags = nil
    end
  end
  return options
end

local function get_page_size(args)
  local size = args.size
  if size ~= nil then
    size = tonumber(size)
    if size == nil then
      return nil, "size must be a number"
    end
    return size
  end
end

local function infer_key(value, field)
  if not field then
    return value
  end
  if field.type == "number" or field.type == "integer" then
    return tonumber(value) or value
  elseif field.type == "boolean" then
    if value == "true" then return true elseif value == "false" then return false end
  end
  return value
end

local function query_entity(context, self, db, schema, method)
  local is_insert = context == "insert"
  local is_update = context == "update" or context == "upsert"
  local args
  if is_update or is_insert then
    args = self.args.post
  else
    args = self.args.uri
  end

  local opts, err, err_t = extract_options(db, args, schema, context)
  if err then
    return nil, err, err_t
  end

  local dao = db[schema.name]
  if is_insert then
    return dao[method or context](dao, args, opts)
  end

  if context == "page" then
    local size, err = get_page_size(args)
    if err then
      return nil, err, dao.errors:invalid_size(err)
    end
    if not method then
      return dao[context](dao, size, args.offset, opts)
    end
    local key = self.params[schema.name]
    if schema.name == "tags" then
      key = unescape_uri(key)
    end
    return dao[method](dao, key, size, args.offset, opts)
  end

  local key = self.params[schema.name]
  if key then
    if type(key) ~= "table" then
      if type(key) == "string" then
        key = { id = unescape_uri(key) }
      else
        key = { id = key }
      end
    end
    if key.id and not uuid.is_valid_uuid(key.id) then
      local endpoint_key = schema.endpoint_key
      if endpoint_key then
        local value = infer_key(key.id, schema.fields[endpoint_key])
        local name = method or context .. "_by_" .. endpoint_key
        if is_update then
          return dao[name](dao, value, args, opts)
        end
        return dao[name](dao, value, opts)
      end
    end
  end

  if is_update then
    return dao[method or context](dao, key, args, opts)
  end
  return dao[method or context](dao, key, opts)
end

local function select_entity(...) return query_entity("select", ...) end
local function update_entity(...) return query_entity("update", ...) end
local function upsert_entity(...) return query_entity("upsert", ...) end
local function delete_entity(...) return query_entity("delete", ...) end
local function insert_entity(...) return query_entity("insert", ...) end
local function page_collection(...) return query_entity("page", ...) end

local function api_name(schema)
  return schema.admin_api_name or schema.name
end

local function nested_name(schema)
  return schema.admin_api_nested_name or schema.admin_api_name or schema.name
end

-- fk_matches: the foreign key of a child equals the parent's primary key.
local function fk_matches(schema, parent_pk, child, fk_name)
  local fk = child[fk_name]
  if not fk or fk == null then
    return false
  end
  fk = schema:extract_pk_values(fk)
  for k, v in pairs(parent_pk) do
    if fk[k] ~= v then
      return false
    end
  end
  return true
end

local function get_collection_endpoint(schema, foreign_schema, foreign_field_name, method)
  if not foreign_schema then
    return function(self, db, helpers)
      local args = self.args.uri
      local extra = ""
      if args.tags then
        extra = "&tags=" .. escape_uri(type(args.tags) == "table" and args.tags[1] or args.tags)
      end
      if args.size then
        extra = extra .. "&size=" .. args.size
      end
      local data, _, err_t, offset = page_collection(self, db, schema, method)
      if err_t then
        return handle_error(err_t)
      end
      local next_page = offset and fmt("/%s?offset=%s%s", api_name(schema), escape_uri(offset), extra) or null
      return ok { data = data, offset = offset, next = next_page }
    end
  end
  return function(self, db, helpers)
    local parent, _, err_t = select_entity(self, db, foreign_schema)
    if err_t then
      return handle_error(err_t)
    end
    if not parent then
      return not_found()
    end
    self.params[schema.name] = foreign_schema:extract_pk_values(parent)
    local data, _, err_t, offset = page_collection(self, db, schema, method or "page_for_" .. foreign_field_name)
    if err_t then
      return handle_error(err_t)
    end
    local next_page = offset and fmt("/%s/%s/%s?offset=%s", api_name(foreign_schema),
                                     self.params[foreign_schema.name], nested_name(schema),
                                     escape_uri(offset)) or null
    return ok { data = data, offset = offset, next = next_page }
  end
end

local function post_collection_endpoint(schema, foreign_schema, foreign_field_name, method)
  return function(self, db, helpers, post_process)
    if foreign_schema then
      local parent, _, err_t = select_entity(self, db, foreign_schema)
      if err_t then
        return handle_error(err_t)
      end
      if not parent then
        return not_found()
      end
      self.args.post[foreign_field_name] = foreign_schema:extract_pk_values(parent)
    end
    local entity, _, err_t = insert_entity(self, db, schema, method)
    if err_t then
      return handle_error(err_t)
    end
    if post_process then
      entity, _, err_t = post_process(entity)
      if err_t then
        return handle_error(err_t)
      end
    end
    return created(entity)
  end
end

local function get_entity_endpoint(schema, foreign_schema, foreign_field_name, method, is_foreign_entity_endpoint)
  return function(self, db, helpers)
    local entity, _, err_t
    if foreign_schema then
      entity, _, err_t = select_entity(self, db, schema)
    else
      entity, _, err_t = select_entity(self, db, schema, method)
    end
    if err_t then
      return handle_error(err_t)
    end
    if not entity then
      return not_found()
    end
    if foreign_schema then
      local pk
      if is_foreign_entity_endpoint then
        pk = entity[foreign_field_name]
        if not pk or pk == null then
          return not_found()
        end
        self.params[foreign_schema.name] = pk
      else
        pk = schema:extract_pk_values(entity)
      end
      entity, _, err_t = select_entity(self, db, foreign_schema, method)
      if err_t then
        return handle_error(err_t)
      end
      if not entity then
        return not_found()
      end
      if not is_foreign_entity_endpoint and not fk_matches(schema, pk, entity, foreign_field_name) then
        return not_found()
      end
    end
    return ok(entity)
  end
end

local function put_entity_endpoint(schema, foreign_schema, foreign_field_name, method, is_foreign_entity_endpoint)
  if not foreign_schema then
    return function(self, db, helpers)
      local entity, _, err_t = upsert_entity(self, db, schema, method)
      if err_t then
        return handle_error(err_t)
      end
      if not entity then
        return not_found()
      end
      return ok(entity)
    end
  end
  return function(self, db, helpers)
    local entity, _, err_t = select_entity(self, db, schema)
    if err_t then
      return handle_error(err_t)
    end
    if not entity then
      return not_found()
    end
    local associate
    if is_foreign_entity_endpoint then
      local pk = entity[foreign_field_name]
      if pk and pk ~= null then
        self.params[foreign_schema.name] = pk
      else
        associate = true
        self.params[foreign_schema.name] = uuid.uuid()
      end
    else
      self.args.post[foreign_field_name] = schema:extract_pk_values(entity)
    end
    local foreign_entity
    foreign_entity, _, err_t = upsert_entity(self, db, foreign_schema, method)
    if err_t then
      return handle_error(err_t)
    end
    if not foreign_entity then
      return not_found()
    end
    if associate then
      local _, _, err_t = db[schema.name]:update(schema:extract_pk_values(entity),
        { [foreign_field_name] = foreign_schema:extract_pk_values(foreign_entity) })
      if err_t then
        return handle_error(err_t)
      end
    end
    return ok(foreign_entity)
  end
end

local function patch_entity_endpoint(schema, foreign_schema, foreign_field_name, method, is_foreign_entity_endpoint)
  if not foreign_schema then
    return function(self, db, helpers)
      local entity, _, err_t = update_entity(self, db, schema, method)
      if err_t then
        return handle_error(err_t)
      end
      if not entity then
        return not_found()
      end
      return ok(entity)
    end
  end
  return function(self, db, helpers)
    local entity, _, err_t = select_entity(self, db, schema)
    if err_t then
      return handle_error(err_t)
    end
    if not entity then
      return not_found()
    end
    if is_foreign_entity_endpoint then
      local pk = entity[foreign_field_name]
      if not pk or pk == null then
        return not_found()
      end
      self.params[foreign_schema.name] = pk
    else
      if not self.args.post[foreign_field_name] then
        self.args.post[foreign_field_name] = schema:extract_pk_values(entity)
      end
      local pk = schema:extract_pk_values(entity)
      local child
      child, _, err_t = select_entity(self, db, foreign_schema)
      if err_t then
        return handle_error(err_t)
      end
      if not child or not fk_matches(schema, pk, child, foreign_field_name) then
        return not_found()
      end
    end
    entity, _, err_t = update_entity(self, db, foreign_schema, method)
    if err_t then
      return handle_error(err_t)
    end
    if not entity then
      return not_found()
    end
    return ok(entity)
  end
end

local function delete_entity_endpoint(schema, foreign_schema, foreign_field_name, method, is_foreign_entity_endpoint)
  if not foreign_schema then
    return function(self, db, helpers)
      local _, _, err_t = delete_entity(self, db, schema, method)
      if err_t then
        return handle_error(err_t)
      end
      return no_content()
    end
  end
  return function(self, db, helpers)
    local entity, _, err_t = select_entity(self, db, schema)
    if err_t then
      return handle_error(err_t)
    end
    if not entity then
      return not_found()
    end
    if is_foreign_entity_endpoint then
      local id = entity[foreign_field_name]
      if not id or id == null then
        return not_found()
      end
      return method_not_allowed()
    end
    local pk = schema:extract_pk_values(entity)
    local child
    child, _, err_t = select_entity(self, db, foreign_schema)
    if err_t then
      return handle_error(err_t)
    end
    if not child or not fk_matches(schema, pk, child, foreign_field_name) then
      return not_found()
    end
    _, _, err_t = delete_entity(self, db, foreign_schema, method)
    if err_t then
      return handle_error(err_t)
    end
    return no_content()
  end
end

local function collection_routes(endpoints, schema, foreign_schema, foreign_field_name)
  local path
  if foreign_schema then
    path = fmt("/%s/:%s/%s", api_name(foreign_schema), foreign_schema.name, nested_name(schema))
  else
    path = "/" .. api_name(schema)
  end
  endpoints[path] = {
    schema = schema,
    methods = {
      GET = get_collection_endpoint(schema, foreign_schema, foreign_field_name),
      POST = post_collection_endpoint(schema, foreign_schema, foreign_field_name),
    },
  }
end

local function entity_routes(endpoints, schema, foreign_schema, foreign_field_name, is_foreign_entity_endpoint)
  local path
  if foreign_schema then
    if is_foreign_entity_endpoint then
      path = fmt("/%s/:%s/%s", api_name(schema), schema.name, foreign_field_name)
    else
      path = fmt("/%s/:%s/%s/:%s", api_name(schema), schema.name, nested_name(foreign_schema), foreign_schema.name)
    end
  else
    path = fmt("/%s/:%s", api_name(schema), schema.name)
  end
  local a, b, c, d = schema, foreign_schema, foreign_field_name, is_foreign_entity_endpoint
  endpoints[path] = {
    schema = foreign_schema or schema,
    methods = {
      GET = get_entity_endpoint(a, b, c, nil, d),
      PUT = put_entity_endpoint(a, b, c, nil, d),
      PATCH = patch_entity_endpoint(a, b, c, nil, d),
      DELETE = delete_entity_endpoint(a, b, c, nil, d),
    },
  }
end

local Endpoints = {
  disable = { before = function() return not_found() end },
  handle_error = handle_error,
  get_page_size = get_page_size,
  extract_options = extract_options,
  select_entity = select_entity,
  update_entity = update_entity,
  upsert_entity = upsert_entity,
  delete_entity = delete_entity,
  insert_entity = insert_entity,
  page_collection = page_collection,
  get_entity_endpoint = get_entity_endpoint,
  put_entity_endpoint = put_entity_endpoint,
  patch_entity_endpoint = patch_entity_endpoint,
  delete_entity_endpoint = delete_entity_endpoint,
  get_collection_endpoint = get_collection_endpoint,
  post_collection_endpoint = post_collection_endpoint,
}

-- new adds the generated routes of schema to endpoints (Kong's
-- Endpoints.new): collection, entity, and for each foreign field the
-- referenced entity, the nested collection and the nested entity.
function Endpoints.new(schema, endpoints)
  collection_routes(endpoints, schema)
  entity_routes(endpoints, schema)
  for name, field in schema:each_field() do
    if field.type == "foreign" then
      local dao = kong.db[field.reference]
      local fschema = dao and dao.schema
      if fschema then
        entity_routes(endpoints, schema, fschema, name, true)
        collection_routes(endpoints, schema, fschema, name)
        entity_routes(endpoints, fschema, schema, name)
      end
    end
  end
  return endpoints
end

return Endpoints
