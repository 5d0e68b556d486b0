return {
  postgres = {
    up = [[
      CREATE TABLE IF NOT EXISTS "badsql_other" ("id" UUID PRIMARY KEY);
      CREATE INDEX IF NOT EXISTS "badsql_other_idx" ON "badsql_other" ("id");
      CREATE TABLE IF NOT EXISTS "badsql_items" ("id" UUID PRIMARY KEY, "name" TEXT,);
    ]],
  },
}
