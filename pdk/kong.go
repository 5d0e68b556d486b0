package pdk

// ctxKeys are private keys inside ngx.ctx.
type ctxKeys struct{}

func openKong(in *Instance) {}
