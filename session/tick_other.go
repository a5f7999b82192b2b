//go:build !linux

package session

import "time"

func newTicker(d time.Duration) ticker { return newTimeTicker(d) }
