return {
  "000_base_label_key",
}
