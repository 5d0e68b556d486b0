return {
  ["/bad-api"] = {
    GET = function(self)
      return kong.response.exit(200 { ok = true })
    end,
  },
}
