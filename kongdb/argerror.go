package kongdb

// ArgError is an argument error that Kong raises with error() instead of
// returning it ("primary_key must be a table", "size must be a number"...).
// The Lua binding raises it; Go callers treat it as a programming error.
type ArgError struct {
	Msg string
}

func (e *ArgError) Error() string { return e.Msg }

func argErr(msg string) error { return &ArgError{Msg: msg} }
