-- luahost shim for Kong's `kong.tools.cjson` (3.x). Covers: encode,
-- decode_with_array_mt, array_mt, new_array — a private cjson.safe instance
-- that decodes arrays with array_mt, prints 16 digits and accepts sparse
-- arrays up to index 2^15.

local cjson = require("cjson.safe").new()
local new_tab = require "table.new"

cjson.decode_array_with_array_mt(true)
cjson.encode_sparse_array(nil, nil, 2^15)
cjson.encode_number_precision(require("kong.constants").CJSON_MAX_PRECISION)

local array_mt = cjson.array_mt

return {
  encode = cjson.encode,
  decode_with_array_mt = cjson.decode,
  array_mt = array_mt,
  -- new_array(size?) is a table that encodes as a JSON array even when empty
  new_array = function(size)
    return setmetatable(size and new_tab(size, 0) or {}, array_mt)
  end,
}
