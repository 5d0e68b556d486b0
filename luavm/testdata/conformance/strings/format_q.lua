print(string.format("[%q]", "a\nb\"c\\d\0e\r"))
print(string.format("%q", 1/3))
