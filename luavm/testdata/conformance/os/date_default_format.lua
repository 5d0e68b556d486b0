print(#os.date() > 0, type(os.date("%Y")))
print(os.date("!%Y", 0.9), os.date("!%d", -86400))
