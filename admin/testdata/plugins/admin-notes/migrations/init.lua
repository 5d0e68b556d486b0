return {
  "000_base_admin_notes",
}
