return { "000_base_ws_creds", "001_200_to_210" }
