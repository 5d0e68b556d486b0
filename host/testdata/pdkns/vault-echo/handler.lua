-- vault-echo: answers with its configuration's referenceable secret, as
-- the handler received it, and the reference Kong keeps in "$refs".
local H = { PRIORITY = 1, VERSION = "1.0.0" }

function H:access(conf)
  local refs = conf["$refs"] or {}
  return kong.response.exit(200, conf.secret .. "|" .. tostring(refs.secret) .. "|" .. tostring(conf.plain))
end

return H
