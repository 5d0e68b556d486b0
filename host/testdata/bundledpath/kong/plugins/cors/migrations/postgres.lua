-- a 0.x migrations file left in a bundled plugin of a Kong >= 1.0 tree
-- (as Kong's request-transformer keeps one): Kong never runs it
return {
  { name = "2017-01-01-000000_dead", up = function(_, _, dao) return dao.plugins:find_all() end },
}
