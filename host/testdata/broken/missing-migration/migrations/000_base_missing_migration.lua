return {
  postgres = {
    up = [[ CREATE TABLE IF NOT EXISTS mm (id UUID PRIMARY KEY); ]],
  },
}
