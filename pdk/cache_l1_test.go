package pdk

import (
	"strconv"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestL1EvictsLeastRecentlyUsed(t *testing.T) {
	c := newL1(3)
	never := func() int64 { t.Fatal("clock read for an entry without expiry"); return 0 }
	for _, k := range []string{"a", "b", "c"} {
		c.set(k, lua.LString(k), false, 0)
	}
	c.get("a", never) // a is now the most recent: b is the oldest
	c.set("d", lua.LString("d"), false, 0)
	if c.get("b", never) != nil || c.get("a", never) == nil || c.get("c", never) == nil || c.get("d", never) == nil {
		t.Fatalf("want b evicted, have %d entries", c.len())
	}
	now := int64(100)
	clock := func() int64 { return now }
	c.set("e", lua.LNil, true, 150)
	if e := c.get("e", clock); e == nil || !e.neg {
		t.Fatal("negative entry not kept")
	}
	now = 150
	if c.get("e", clock) != nil {
		t.Fatal("expired entry served")
	}
}

func TestL1InboxOverflowFlushes(t *testing.T) {
	c := newL1(10)
	c.set("keep-or-not", lua.LTrue, false, 0)
	var q l1Inbox
	for i := 0; i < maxQueuedDrops+1; i++ {
		q.drop("k" + strconv.Itoa(i))
	}
	if !q.apply(c) || c.len() != 0 {
		t.Fatalf("an overflowing queue must flush the L1, %d entries left", c.len())
	}
	c.set("x", lua.LTrue, false, 0)
	c.set("y", lua.LTrue, false, 0)
	q.drop("x")
	q.apply(c)
	if c.len() != 1 || q.apply(c) {
		t.Fatal("drop of one key")
	}
	q.purge()
	q.apply(c)
	if c.len() != 0 {
		t.Fatal("purge")
	}
}
