-- spec.hybrid (stands in for Kong's spec/hybrid.lua, which runs each spec
-- over a control plane and a data plane): luahost has no hybrid mode, so
-- requiring it raises, naming why, as the helpers luahost refuses do.
error("spec.hybrid: not supported by luahost: it has no hybrid mode (no control plane, no data plane, "
  .. "no clustering between nodes); run the spec's traditional deployment with spec.helpers instead", 2)
