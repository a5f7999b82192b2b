package cli

import "strings"

// usageTable is the Markdown table of every command's usage line, which
// docs/nexusctl.md holds between its usage-table markers (a test keeps
// the two equal).
func usageTable() string {
	var b strings.Builder
	b.WriteString("| command | usage |\n|---|---|\n")
	for _, c := range commands {
		// A table cell cannot hold a bare "|", even in code.
		b.WriteString("| `" + c.name + "` | `" + strings.ReplaceAll(c.usage(), "|", `\|`) + "` |\n")
	}
	return b.String()
}
