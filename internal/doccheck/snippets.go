package doccheck

import (
	"bufio"
	"bytes"
	"strings"
)

// Block is one fenced code block of a Markdown file.
type Block struct {
	Lang string // the info string after the fence ("go", "text", ...)
	Line int    // the line of the opening fence, from 1
	Text string // the contents, each line ending in "\n"
	// Output is the text of a "text" block that follows this one with only
	// blank lines between: what the program prints.
	Output *string
}

// Blocks returns the fenced code blocks of a Markdown document, in order.
func Blocks(doc []byte) []Block {
	var out []Block
	var cur *Block
	var body strings.Builder
	blankSince := -1 // index of the last closed block while only blank lines follow it
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		fence := strings.HasPrefix(line, "```")
		switch {
		case cur == nil && fence:
			cur = &Block{Lang: strings.TrimSpace(strings.TrimPrefix(line, "```")), Line: n}
			body.Reset()
		case cur != nil && fence && strings.TrimSpace(line) == "```":
			cur.Text = body.String()
			if cur.Lang == "text" && blankSince >= 0 && out[blankSince].Output == nil {
				text := cur.Text
				out[blankSince].Output = &text
			}
			out = append(out, *cur)
			blankSince = len(out) - 1
			cur = nil
		case cur != nil:
			body.WriteString(line + "\n")
		case strings.TrimSpace(line) != "":
			blankSince = -1
		}
	}
	return out
}
