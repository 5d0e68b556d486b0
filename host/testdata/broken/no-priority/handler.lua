local NoPriority = {
  VERSION = "0.1.0",
}

function NoPriority:access(conf)
end

return NoPriority
