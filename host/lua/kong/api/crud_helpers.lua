-- luahost shim for Kong's `kong.api.crud_helpers` (Kong 0.5 - 0.14, removed
-- in 1.0), the helpers 0.x plugins' api.lua handlers call with
-- `function(self, dao_factory, helpers)`, over the 0.x DAO
-- (kong.dao.legacy). Covers: find_by_id_or_field, find_consumer_by_username_or_id,
-- paginated_set, get, post, patch, put, delete.
--
-- Answers are 0.x's (kong.tools.responses: JSON with a newline):
--   paginated_set  200 { data = rows ([] when none), total = count,
--                        offset = <base64 offset>, next = <url of the next page> }
--   get            200 row | 404
--   post           201 row (success(copy) called first)
--   put            201 row (no primary key: insert) | 200 row (full update)
--   patch          200 row | 404 | 400 "empty body"
--   delete         204 | 404
-- and a DAO error ends the request as 0.x's Admin API on_error did:
-- db -> 500, unique -> 409 with the field table, foreign -> 404 with the
-- field table, schema -> 400 with the field table or message.

local responses = require "kong.tools.responses"
local utils = require "kong.tools.utils"
local cjson = require "cjson.safe"

local type = type
local next = next
local pairs = pairs
local tonumber = tonumber

local _M = {}

-- yield_error ends the request with the Admin API's error answer (the
-- same function api.lua handlers get as helpers.yield_error).
local function yield_error(err)
  return require("kong.api.luahost").yield_error(err)
end

-- find_by_id_or_field(dao, filter, value, alternate_field): rows whose id
-- is value (when it is a UUID), else, or when none has that id, rows
-- whose alternate_field is value.
function _M.find_by_id_or_field(dao, filter, value, alternate_field)
  filter = filter or {}
  local is_uuid = utils.is_valid_uuid(value)
  filter[is_uuid and "id" or alternate_field] = value
  local rows, err = dao:find_all(filter)
  if err then
    return nil, err
  end
  if is_uuid and next(rows) == nil then
    filter.id = nil
    filter[alternate_field] = value
    rows, err = dao:find_all(filter)
    if err then
      return nil, err
    end
  end
  return rows
end

-- find_consumer_by_username_or_id(self, dao_factory, helpers): sets
-- self.consumer from self.params.username_or_id (removed from params), or
-- answers 404.
function _M.find_consumer_by_username_or_id(self, dao_factory, helpers)
  local rows, err = _M.find_by_id_or_field(dao_factory.consumers, {},
                                           self.params.username_or_id, "username")
  if err then
    return yield_error(err)
  end
  self.params.username_or_id = nil
  self.consumer = rows[1]
  if not self.consumer then
    return responses.send_HTTP_NOT_FOUND()
  end
end

local function next_url(self, offset, size)
  local req = self.req or {}
  local headers = req.headers or {}
  local url = req.parsed_url or {}
  local host = headers.host or "localhost"
  local args = "offset=" .. ngx.escape_uri(offset) .. "&size=" .. size
  return (url.scheme or "http") .. "://" .. host .. (url.path or "/") .. "?" .. args
end

-- paginated_set(self, dao): a page of the rows matching self.params (size
-- and offset taken out of them).
function _M.paginated_set(self, dao_collection)
  local size = self.params.size and tonumber(self.params.size) or 100
  local offset = self.params.offset and ngx.decode_base64(self.params.offset)
  self.params.size = nil
  self.params.offset = nil

  local filter = next(self.params) and self.params or nil
  local rows, err, next_offset = dao_collection:find_page(filter, offset, size)
  if err then
    return yield_error(err)
  end
  local total, cerr = dao_collection:count(filter)
  if cerr then
    return yield_error(cerr)
  end

  local url
  if next_offset then
    next_offset = ngx.encode_base64(next_offset)
    url = next_url(self, next_offset, size)
  end
  return responses.send_HTTP_OK {
    data = #rows > 0 and rows or cjson.empty_array,
    total = total,
    offset = next_offset,
    ["next"] = url,
  }
end

function _M.get(primary_keys, dao_collection)
  local row, err = dao_collection:find(primary_keys)
  if err then
    return yield_error(err)
  elseif row == nil then
    return responses.send_HTTP_NOT_FOUND()
  end
  return responses.send_HTTP_OK(row)
end

function _M.post(params, dao_collection, success)
  local row, err = dao_collection:insert(params)
  if err then
    return yield_error(err)
  end
  if success then
    success(utils.deep_copy(row))
  end
  return responses.send_HTTP_CREATED(row)
end

function _M.patch(params, dao_collection, filter_keys)
  if next(params) == nil then
    return responses.send_HTTP_BAD_REQUEST("empty body")
  end
  local row, err = dao_collection:update(params, filter_keys)
  if err then
    return yield_error(err)
  elseif row == nil then
    return responses.send_HTTP_NOT_FOUND()
  end
  return responses.send_HTTP_OK(row)
end

-- put: a body without the full primary key is an insert (201), one with
-- it a full update (200).
function _M.put(params, dao_collection)
  local has_pk = true
  for _, col in ipairs(dao_collection.primary_key or { "id" }) do
    if params[col] == nil then
      has_pk = false
    end
  end
  if not has_pk then
    local row, err = dao_collection:insert(params)
    if err then
      return yield_error(err)
    end
    return responses.send_HTTP_CREATED(row)
  end
  local row, err = dao_collection:update(params, params, { full = true })
  if err then
    return yield_error(err)
  elseif row == nil then
    -- 0.x answered 200 with no body here; a missing row is a 404
    return responses.send_HTTP_NOT_FOUND()
  end
  return responses.send_HTTP_OK(row)
end

function _M.delete(primary_keys, dao_collection)
  local ok, err = dao_collection:delete(primary_keys)
  if not ok then
    if err then
      return yield_error(err)
    end
    return responses.send_HTTP_NOT_FOUND()
  end
  return responses.send_HTTP_NO_CONTENT()
end

return _M
