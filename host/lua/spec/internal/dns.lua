-- spec.internal.dns (Kong 3.x; spec.helpers' dns_mock): the DNS records
-- start_kong's fixtures.dns_mock gives the node's DNS client. Kong's
-- layout, which the Go side reads: the instance holds the options
-- (mocks_only) and, at each record type's number (A 1, CNAME 5, AAAA 28,
-- SRV 33), a table of names, each a list of records as lua-resty-dns
-- returns them. Kong's defaults: ttl 600, class 1; SRV weight 10 and
-- priority 20.

local cjson = require "cjson"

local dns_mock = {}
dns_mock.__index = dns_mock

local TYPES = { A = 1, CNAME = 5, AAAA = 28, SRV = 33 }

-- the fields a record of each type must have, besides name
local REQUIRED = {
  A = { "address" },
  AAAA = { "address" },
  CNAME = { "cname" },
  SRV = { "target", "port" },
}

-- tostring gives what Kong's start_kong writes to dns_mock_records.json
dns_mock.__tostring = function(self)
  local records = {}
  for i = 1, 33 do
    records[i] = self[i] or {}
  end
  return cjson.encode({ mocks_only = self.mocks_only, records = records })
end

function dns_mock.new(options)
  return setmetatable(options or {}, dns_mock)
end

local function adder(kind)
  local qtype = TYPES[kind]
  return function(self, rec)
    if self == dns_mock then
      error("can't operate on the class, you must create an instance", 2)
    end
    if getmetatable(self or {}) ~= dns_mock then
      error(kind .. " method must be called using the colon notation", 2)
    end
    assert(rec, "Missing record parameter")
    local name = assert(rec.name, "No name field in " .. kind .. " record")
    local r = { type = qtype, name = name, ttl = rec.ttl or 600, class = rec.class or 1 }
    for _, f in ipairs(REQUIRED[kind]) do
      r[f] = assert(rec[f], "No " .. f .. " field in " .. kind .. " record")
    end
    if kind == "SRV" then
      r.weight = rec.weight or 10
      r.priority = rec.priority or 20
    end
    local names = self[qtype] or {}
    self[qtype] = names
    local list = names[name] or {}
    names[name] = list
    list[#list + 1] = r
    return true
  end
end

dns_mock.A = adder("A")
dns_mock.AAAA = adder("AAAA")
dns_mock.CNAME = adder("CNAME")
dns_mock.SRV = adder("SRV")

return dns_mock
