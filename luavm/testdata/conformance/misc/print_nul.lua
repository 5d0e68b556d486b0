print("a\0b", #"a\0b")
