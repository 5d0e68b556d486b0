print(type(table.getn), type(table.setn), type(table.foreach), type(table.foreachi))
print(table.getn and table.getn({1, 2}))
