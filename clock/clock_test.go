package clock

import (
	"testing"
	"time"
)

func TestFakeFiresInOrderAndOnlyWhenDue(t *testing.T) {
	start := time.Date(2026, 11, 27, 15, 59, 50, 0, time.UTC)
	f := NewFake(start)
	a := f.After(5 * time.Second)
	b := f.After(15 * time.Second)
	f.Advance(4 * time.Second)
	select {
	case <-a:
		t.Fatal("fired before its deadline")
	default:
	}
	f.Advance(time.Second)
	if got := <-a; !got.Equal(start.Add(5 * time.Second)) {
		t.Fatalf("a fired at %v", got)
	}
	if f.Waiters() != 1 {
		t.Fatalf("waiters = %d, want 1", f.Waiters())
	}
	f.Advance(time.Minute)
	<-b
	if f.Waiters() != 0 {
		t.Fatalf("waiters = %d, want 0", f.Waiters())
	}
}

func TestFakeBlockUntil(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	done := make(chan struct{})
	go func() {
		<-f.After(time.Second)
		close(done)
	}()
	if !f.BlockUntil(1, 5*time.Second) {
		t.Fatal("goroutine never parked")
	}
	f.Advance(time.Second)
	<-done
	if f.BlockUntil(1, 10*time.Millisecond) {
		t.Fatal("BlockUntil reported a waiter that is not there")
	}
}
