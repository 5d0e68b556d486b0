return require "resty.absent_dep"
