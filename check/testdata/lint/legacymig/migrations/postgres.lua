return {
  {
    name = "2017-01-01-000000_init_legacymig",
    up = [[
      CREATE TABLE IF NOT EXISTS legacymig_items(
        id uuid,
        name text,
        PRIMARY KEY (id)
      );
    ]],
    down = [[
      DROP TABLE legacymig_items;
    ]],
  },
}
