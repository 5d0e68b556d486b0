return { "000_base_apikeys2" }
