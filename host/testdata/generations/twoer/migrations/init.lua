return { "000_base_twoer" }
