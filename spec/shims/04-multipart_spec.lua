-- multipart (lua-multipart) shim.

describe("multipart", function()
  local multipart = require "multipart"
  local CT = 'multipart/form-data; boundary="AaB03x"'
  local body = table.concat({
    "--AaB03x",
    'Content-Disposition: form-data; name="submit-name"',
    "",
    "Larry",
    "--AaB03x",
    'Content-Disposition: form-data; name="files"; filename="file1.txt"',
    "Content-Type: text/plain",
    "",
    "line one",
    "line two",
    "",
    "--AaB03x--",
    "",
  }, "\r\n")

  it("decodes parts with their headers", function()
    local m = multipart(body, CT)
    assert.same({ name = "submit-name", value = "Larry",
                  headers = { 'Content-Disposition: form-data; name="submit-name"' } },
                m:get("submit-name"))
    local f = m:get("files")
    assert.equal("line one\r\nline two\r\n", f.value)
    assert.same({ 'Content-Disposition: form-data; name="files"; filename="file1.txt"',
                  "Content-Type: text/plain" }, f.headers)
    assert.same({ ["submit-name"] = "Larry", files = "line one\r\nline two\r\n" }, m:get_all())
    assert.is_nil(m:get("nope"))
  end)

  it("sets, deletes and encodes back", function()
    local m = multipart.new(body, CT)
    m:delete("files")
    m:set_simple("submit-name", "Moe")
    m:set_simple("extra", "1")
    assert.equal(table.concat({
      "--AaB03x",
      'Content-Disposition: form-data; name="submit-name"',
      "",
      "Moe",
      "--AaB03x",
      'Content-Disposition: form-data; name="extra"',
      "",
      "1",
      "--AaB03x--",
      "",
    }, "\r\n"), m:tostring())
    assert.equal("Moe", m:get("submit-name").value)
    assert.equal("1", m:get("extra").value)
  end)

  it("keeps repeated names and answers the last one", function()
    local b = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n" ..
              "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n2\r\n--b--\r\n"
    local m = multipart(b, "multipart/form-data; boundary=b")
    assert.equal("2", m:get("a").value)
    assert.same({ "1", "2" }, m:get_as_array("a"))
    assert.same({ a = { "1", "2" } }, m:get_all_as_arrays())
  end)

  it("is empty without a boundary", function()
    local m = multipart(body, "multipart/form-data")
    assert.same({}, m:get_all())
    assert.equal("", m:tostring())
    assert.equal("", multipart("", CT):tostring())
  end)
end)
