package protocol

import "sync/atomic"

// internTab is a small direct-mapped cache of the short strings that repeat
// from call to call (service and property names in paths), so that decoding
// them usually allocates nothing. Its size is fixed: a peer sending ever new
// names only evicts entries, it cannot grow memory.
var internTab [1024]atomic.Pointer[string]

// maxIntern is the longest string kept in internTab.
const maxIntern = 48

// intern returns b as a string, from internTab when it is there.
func intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxIntern {
		return string(b)
	}
	h := uint32(2166136261) // FNV-1a
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	slot := &internTab[h%uint32(len(internTab))]
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}
