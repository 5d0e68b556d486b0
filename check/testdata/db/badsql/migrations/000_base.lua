return {
  postgres = {
    up = [[
      CREATE TABLE IF NOT EXISTS "badsql_items" ("id" UUID PRIMARY KEY, "name" TEXT,);
    ]],
  },
}
