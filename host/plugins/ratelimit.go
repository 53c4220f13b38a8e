package plugins

import (
	"sync"
	"time"
)

// rateLimit is a token bucket: up to burst calls at once, refilled at rate
// calls a second.
type rateLimit struct {
	rate, burst float64

	mu      sync.Mutex
	tokens  float64
	last    time.Time
	refused bool // the last call was refused
}

func newRateLimit(rate, burst float64) *rateLimit {
	return &rateLimit{rate: rate, burst: burst, tokens: burst}
}

// allow takes a token if there is one. first is true for the first refusal
// after an allowed call, so a caller can record a run of refusals once.
func (l *rateLimit) allow(now time.Time) (ok, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		l.refused = false
		return true, false
	}
	first, l.refused = !l.refused, true
	return false, first
}
