print(os.difftime(10, 5), os.difftime(5, 10))
print(os.getenv("LUAHOST_SURELY_UNSET_VAR"))
