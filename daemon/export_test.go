package daemon

// MemoryReturns is how many times the daemon gave memory back to the OS.
func (d *Daemon) MemoryReturns() int {
	d.mem.mu.Lock()
	defer d.mem.mu.Unlock()
	return d.mem.returns
}

// MemoryLooks is how many times the daemon armed a look at its memory.
func (d *Daemon) MemoryLooks() int {
	d.mem.mu.Lock()
	defer d.mem.mu.Unlock()
	return d.mem.arms
}
