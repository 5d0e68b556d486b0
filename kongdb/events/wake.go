package events

// Wake fires Ready without queuing an event, so that whoever drains the
// worker runs its other due work (pdk's ngx.timer queue). Safe from any
// goroutine; a closed inbox is not woken.
func (in *Inbox) Wake() {
	in.mu.Lock()
	closed := in.closed
	in.mu.Unlock()
	if closed {
		return
	}
	select {
	case in.ready <- struct{}{}:
	default:
	}
}
