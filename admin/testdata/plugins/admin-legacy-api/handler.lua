-- admin-legacy-api: a test plugin whose api.lua is in Kong's old style
-- (routes without a schema, as prometheus and proxy-cache write them).
return {
  PRIORITY = 11,
  VERSION = "0.1.0",
}
