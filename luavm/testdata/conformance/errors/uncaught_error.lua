print("before")
error("uncaught")
