return {
  "000_base_missing_migration",
  "001_not_there",
}
