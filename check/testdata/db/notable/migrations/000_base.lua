return {
  postgres = {
    up = [[
      CREATE TABLE IF NOT EXISTS "notable_other" ("id" UUID PRIMARY KEY);
    ]],
  },
}
