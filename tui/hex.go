package tui

import (
	"fmt"
	"strings"
)

// hexWidth is the width of a hex dump line: offset, 16 bytes, ASCII.
const hexWidth = 4 + 2 + 16*3 + 1 + 16 + 2

// hexPane renders the selected message's bytes, highlighting the selected
// field's bytes (its tag through its end) so that a user can see exactly
// what the decoding read.
func (m *Model) hexPane(h int) []string {
	d := m.detail
	i := d.selMsg()
	if i < 0 {
		return padLines([]string{styleDim.Render("── bytes: select a message")}, h)
	}
	w := d.msgs[i]
	data := w.m.Data
	dir := "req"
	if w.resp {
		dir = "resp"
	}
	title := fmt.Sprintf("── %s %d · %d bytes", dir, w.n, len(data))
	if w.m.Truncated {
		title += " (truncated)"
	}
	lo, hi := -1, -1
	if it := d.items[d.cursor]; it.field != nil {
		lo, hi = it.base+it.field.Offset, it.base+it.field.End
		title += fmt.Sprintf(" · field %d is bytes %d-%d", it.field.Number, lo, hi-1)
	}
	if d.focus == 1 {
		title += " · j/k scroll"
	}
	lines := []string{styleSection.Render(title)}
	rows := (len(data) + 15) / 16
	top := d.hexTop
	// Keep the highlighted bytes in view unless the user scrolls the pane.
	if d.focus == 0 && lo >= 0 && lo/16 >= top+h-1 {
		top = lo/16 - (h-1)/2
	}
	top = min(top, max(rows-(h-1), 0))
	d.hexTop = top
	for r := top; r < rows && len(lines) < h; r++ {
		lines = append(lines, hexLine(data, r*16, lo, hi))
	}
	return padLines(lines, h)
}

func padLines(ls []string, h int) []string {
	for len(ls) < h {
		ls = append(ls, "")
	}
	return ls[:h]
}

// hexLine renders 16 bytes from off: offset, hex, ASCII.
func hexLine(data []byte, off, lo, hi int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%04x  ", off)
	for k := 0; k < 16; k++ {
		j := off + k
		switch {
		case j >= len(data):
			b.WriteString("   ")
		case j >= lo && j < hi:
			b.WriteString(styleHiByte.Render(fmt.Sprintf("%02x", data[j])) + " ")
		default:
			fmt.Fprintf(&b, "%02x ", data[j])
		}
		if k == 7 {
			b.WriteByte(' ')
		}
	}
	b.WriteString(" ")
	for k := 0; k < 16 && off+k < len(data); k++ {
		c := data[off+k]
		ch := "."
		if c >= 0x20 && c < 0x7f {
			ch = string(rune(c))
		}
		if off+k >= lo && off+k < hi {
			ch = styleHiByte.Render(ch)
		}
		b.WriteString(ch)
	}
	return b.String()
}
