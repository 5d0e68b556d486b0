-- 1.1.0 adds a free-text label to credentials; teardown fills it for
-- credentials created before the upgrade.
return {
  postgres = {
    up = [[
      DO $$
      BEGIN
        ALTER TABLE IF EXISTS ONLY "token_credentials" ADD "label" TEXT;
      EXCEPTION WHEN DUPLICATE_COLUMN THEN
        -- Do nothing, accept existing state
      END;
      $$;
    ]],
    teardown = function(connector)
      local _, err = connector:query([[
        UPDATE "token_credentials" SET "label" = 'pre-1.1' WHERE "label" IS NULL;
      ]])
      if err then
        return nil, err
      end
      return true
    end,
  },
}
