return {
  "000_base",
}
