-- A spec file starts as busted starts it: the helper modules that loading
-- the enabled plugins required are not in package.loaded yet, so a unit
-- spec that mocks the kong global before requiring a plugin's module gets
-- the module under its mock (Kong's response-transformer header_transformer
-- spec does this). The files that define a plugin (handler, schema, daos)
-- stay, as Kong's spec helpers load them too.
describe("a plugin module required by a spec", function()
  it("is not loaded when the file starts", function()
    assert.is_nil(package.loaded["kong.plugins.fresh-mod.helper"])
    assert.is_table(package.loaded["kong.plugins.fresh-mod.schema"])
  end)

  it("is loaded under the spec's kong", function()
    local real = _G.kong
    _G.kong = { marker = "the spec's" }
    local helper = require "kong.plugins.fresh-mod.helper"
    _G.kong = real
    assert.equal("the spec's", helper.marker())
  end)

  it("can be reloaded when it registers itself in a library module", function()
    -- as ai-prompt-guard's unit spec reloads its filter
    package.loaded["kong.plugins.fresh-mod.filter"] = nil
    assert.is_table(require "kong.plugins.fresh-mod.filter")
  end)

  it("keeps the core modules loaded", function()
    assert.is_table(package.loaded["busted"] or package.loaded.string)
  end)
end)
