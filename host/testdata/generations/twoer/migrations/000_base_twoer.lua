return {
  postgres = { up = [[ CREATE TABLE IF NOT EXISTS "twoer_things" ("id" UUID PRIMARY KEY); ]] },
  cassandra = { up = [[ CREATE TABLE IF NOT EXISTS twoer_things (id uuid PRIMARY KEY); ]] },
}
