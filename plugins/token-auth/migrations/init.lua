return {
  "000_base_token_auth",
  "001_100_to_110",
}
