-- The Admin API routes of admin-notes, in Kong's new-db style: an override
-- of two generated endpoints (one with a before hook) and routes of its
-- own built from kong.api.endpoints helpers.
local endpoints = require "kong.api.endpoints"

local kong = kong
local notes_schema = kong.db.admin_notes.schema
local consumers_schema = kong.db.consumers.schema

return {
  ["/consumers/:consumers/note"] = {
    schema = notes_schema,
    methods = {
      before = function(self, db, helpers)
        if self.req.headers["X-Deny"] then
          return kong.response.exit(403, { message = "denied by before" })
        end
      end,
      POST = function(self, db, helpers, parent)
        if self.args.post.body == nil then
          self.args.post.body = "(empty)"
        end
        return parent()
      end,
    },
  },

  ["/notes/:admin_notes"] = {
    schema = notes_schema,
    methods = {
      GET = function(self, db, helpers, parent)
        kong.response.set_header("X-Notes-Override", "yes")
        return parent()
      end,
    },
  },

  ["/notes-search"] = {
    schema = notes_schema,
    methods = {
      GET = function(self, db, helpers)
        local title = self.args.uri.title
        local note, _, err_t = db.admin_notes:select_by_title(title)
        if err_t then
          return endpoints.handle_error(err_t)
        end
        if not note then
          return kong.response.exit(404, { message = "no note titled " .. tostring(title) })
        end
        return kong.response.exit(200, { note = note, title_param = self.params.title, method = self.req.method })
      end,
      POST = function(self)
        return kong.response.exit(200, { post = self.args.post, json = self.args.json or ngx.null })
      end,
    },
  },

  ["/notes-by/:consumers"] = {
    schema = notes_schema,
    methods = {
      GET = endpoints.get_collection_endpoint(notes_schema, consumers_schema, "consumer"),
      POST = endpoints.post_collection_endpoint(notes_schema, consumers_schema, "consumer"),
    },
  },

  -- the body written with ngx.print / ngx.say, no exit
  ["/notes-print"] = {
    GET = function()
      kong.response.set_status(201)
      kong.response.set_header("x-foo", "bar")
      ngx.print("hel", { "l", "o" })
      ngx.say(" ", 1, true)
    end,
  },

  ["/notes-fail/:how"] = {
    schema = notes_schema,
    methods = {
      GET = function(self, db, helpers)
        if self.params.how == "yield" then
          local _, _, err_t = db.admin_notes:insert({})
          return helpers.yield_error(err_t)
        end
        error("boom")
      end,
    },
  },
}
