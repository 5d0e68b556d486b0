print(string.len("abc"), string.len(""), string.len("a\0b"), #"a\0b")
print(string.lower("AbC1"), string.upper("aBc1"), string.reverse("abc"), string.reverse(""))
print(string.len(123), string.upper(1.5))
