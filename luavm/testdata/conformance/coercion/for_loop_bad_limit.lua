print(pcall(function() for i = 1, "x" do end end))
