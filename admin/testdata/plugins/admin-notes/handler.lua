-- admin-notes: a test plugin for the Admin API. It does nothing on the
-- proxy; its entity (admin_notes) and api.lua exercise the Admin API.
return {
  PRIORITY = 10,
  VERSION = "0.1.0",
}
