package events

import "testing"

func TestInboxWake(t *testing.T) {
	in := NewBus(BusConfig{}).NewInbox(0)
	in.Wake()
	in.Wake() // coalesced
	select {
	case <-in.Ready():
	default:
		t.Fatal("Wake did not fire Ready")
	}
	select {
	case <-in.Ready():
		t.Fatal("two wake-ups were not coalesced")
	default:
	}
	if n := in.Drain(func(Event) { t.Fatal("Wake queued an event") }); n != 0 {
		t.Fatalf("drained %d", n)
	}
	in.Close()
	in.Wake()
	select {
	case <-in.Ready():
		t.Fatal("a closed inbox was woken")
	default:
	}
}
