package pdk

// Placeholders until each namespace file lands; each is replaced by its
// own file (ngx.go, cjson.go, kong.go).
func openNgx(in *Instance)   {}
func openCJSON(in *Instance) {}
func openKong(in *Instance)  {}
