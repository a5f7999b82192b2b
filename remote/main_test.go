package remote

import (
	"testing"

	"github.com/nexus-interop/nexus-go/internal/leakcheck"
)

// TestMain fails the run when a goroutine outlives the tests.
func TestMain(m *testing.M) { leakcheck.Main(m) }
