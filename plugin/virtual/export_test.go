package virtual

// ArmedTimers returns the number of expiry timers the plugin holds.
func (p *Plugin) ArmedTimers() int {
	p.timers.mu.Lock()
	defer p.timers.mu.Unlock()
	return len(p.timers.all)
}
