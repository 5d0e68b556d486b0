package admin

// luaAPI serves the routes of plugins' api.lua files in host workers.
type luaAPI struct {
	s *Server
}

func (s *Server) loadLua() error { return nil }

func (l *luaAPI) serve(r *Request) { r.Exit(404, nil) }
