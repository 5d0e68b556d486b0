-- Stands in for rxi/classic as third-party plugins require it ("classic"):
-- the same class library Kong vendors as kong.vendor.classic.
return require "kong.vendor.classic"
