-- a library module that refuses a name registered twice, as Kong's
-- kong.llm.plugin.ctx does with its namespaces
local names = {}

return {
  register = function(name)
    if names[name] then
      error("namespace already registered: " .. name, 2)
    end
    names[name] = true
  end,
}
