package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/grpcsniff/grpcsniff/capture"
	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// openDetail shows call i. Following stops, so that the list is where the
// user left it when they come back.
// A call that was let go is read again first (m.next).
func (m *Model) openDetail(i int32) {
	m.follow = false
	m.next = m.withCall(i, func(c *grpcframe.Call) tea.Cmd {
		m.detail = newDetail(c, m)
		m.screen = screenDetail
		m.status = ""
		return nil
	})
}

// treeWidth is the width of the detail tree pane.
func (m *Model) treeWidth() int {
	if m.sideBySide() {
		return m.w - hexWidth - 1
	}
	return m.w
}

// sideBySide: wide terminals put the hex pane to the right of the tree.
func (m *Model) sideBySide() bool { return m.w >= 140 }

// detailPanes returns the heights of the tree and hex panes (below the
// title line and above the status line).
func (m *Model) detailPanes() (tree, hex int) {
	body := max(m.h-1-m.footerHeight(), 2)
	if m.sideBySide() {
		return body, body
	}
	d := m.detail
	need := 1
	if i := d.selMsg(); i >= 0 {
		need = 1 + (len(d.msgs[i].m.Data)+15)/16
	}
	hex = min(need, max(body/3, 3))
	return body - hex, hex
}

func (m *Model) detailKey(s string) tea.Cmd {
	d := m.detail
	tree, hex := m.detailPanes()
	switch s {
	case "esc", "backspace":
		m.screen, m.detail = screenList, nil
		return nil
	case "tab", "shift+tab":
		d.focus = 1 - d.focus
		return nil
	case "y":
		return m.copyGrpcurl(d.call)
	case "Y":
		return m.saveGrpcurl(d.call)
	case "e":
		return m.export(func() ([]*grpcframe.Call, error) { return []*grpcframe.Call{d.call}, nil }, 1)
	case "w":
		return m.writePcapng([]capture.ConnTuple{{A: d.call.Client, B: d.call.Server}})
	case "]", "n":
		m.moveCursor(1)
		if i := m.selected(); i >= 0 {
			m.openDetail(i)
		}
		return nil
	case "[", "p":
		m.moveCursor(-1)
		if i := m.selected(); i >= 0 {
			m.openDetail(i)
		}
		return nil
	}
	if d.focus == 1 {
		switch s {
		case "j", "down":
			d.hexTop++
		case "k", "up":
			d.hexTop--
		case "ctrl+d", "pgdown":
			d.hexTop += hex - 2
		case "ctrl+u", "pgup":
			d.hexTop -= hex - 2
		}
		d.hexTop = max(d.hexTop, 0)
		return nil
	}
	switch s {
	case "j", "down":
		d.move(1)
	case "k", "up":
		d.move(-1)
	case "ctrl+d", "pgdown", "space":
		d.move(tree - 1)
	case "ctrl+u", "pgup":
		d.move(-(tree - 1))
	case "g", "home":
		d.move(-len(d.items))
	case "G", "end":
		d.move(len(d.items))
	case "enter", "l", "right":
		d.toggle(true)
	case "h", "left":
		d.toggle(false)
	}
	return nil
}

// move moves the tree cursor; the hex pane follows the selected message.
func (d *detail) move(n int) {
	d.cursor = min(max(d.cursor+n, 0), len(d.items)-1)
	d.hexTop = 0
}

// toggle opens (or closes) the line under the cursor; on a line that
// cannot close, h goes to the enclosing message or field.
func (d *detail) toggle(open bool) {
	it := d.items[d.cursor]
	if it.expandable() && it.open != open {
		d.open[it.key] = open
		d.rebuild(it.key)
		return
	}
	if !open && it.msg >= 0 && it.kind != kindMessage {
		for i := d.cursor - 1; i >= 0; i-- {
			if d.items[i].depth < it.depth && d.items[i].expandable() {
				d.cursor = i
				return
			}
		}
	}
}

// rebuild re-flattens the tree and puts the cursor back on key's line.
func (d *detail) rebuild(key string) {
	d.build()
	for i := range d.items {
		if d.items[i].key == key {
			d.cursor = i
			return
		}
	}
	d.cursor = min(d.cursor, len(d.items)-1)
}

// reflow re-flattens the tree for a new width, which re-wraps the text
// lines: the cursor stays on its line (counted from the nearest line above
// with a key, which wrapping does not move), and the hex pane and the
// focus stay as they were.
func (d *detail) reflow() {
	anchor, below := "", d.cursor
	for i := d.cursor; i >= 0; i-- {
		if d.items[i].key != "" {
			anchor, below = d.items[i].key, d.cursor-i
			break
		}
	}
	d.build()
	at := 0
	for i := range d.items {
		if anchor != "" && d.items[i].key == anchor {
			at = i
			break
		}
	}
	d.cursor = min(at+below, len(d.items)-1)
}

// selMsg is the message the cursor is in, or -1.
func (d *detail) selMsg() int { return d.items[d.cursor].msg }

func (m *Model) renderDetail() string {
	d := m.detail
	c := d.call
	st := "-"
	if c.Status != nil {
		st = c.Status.Name
	} else if c.StatusUnknown {
		st = "?"
	}
	right := st + " · " + callDurationText(c) + " "
	if c.End.IsZero() {
		right = st + " "
	}
	meth := export.Printable(c.Method)
	if c.MethodUnknown {
		meth = export.Printable(export.UnknownMethod(c))
	} else if ansi.StringWidth(meth)+ansi.StringWidth(right)+2 > m.w {
		meth = shortMethod(meth)
	}
	title := " " + meth
	lines := []string{styleTitle.Render(spread(title, right, m.w))}

	treeH, hexH := m.detailPanes()
	treeW := m.treeWidth()
	// Keep a little context around the cursor (vim's scrolloff), so that
	// the line after an expanded message shows there is more below.
	off := min(2, (treeH-1)/2)
	if d.cursor-off < d.top {
		d.top = max(d.cursor-off, 0)
	}
	if d.cursor+off >= d.top+treeH {
		d.top = d.cursor + off - treeH + 1
	}
	d.top = max(min(d.top, len(d.items)-treeH), 0)
	tree := make([]string, 0, treeH)
	for i := d.top; i < len(d.items) && len(tree) < treeH; i++ {
		tree = append(tree, d.itemLine(i, treeW))
	}
	for len(tree) < treeH {
		tree = append(tree, "")
	}
	hex := m.hexPane(hexH)
	if m.sideBySide() {
		for i := range tree {
			h := ""
			if i < len(hex) {
				h = hex[i]
			}
			lines = append(lines, pad(tree[i], treeW)+"│"+h)
		}
	} else {
		lines = append(lines, tree...)
		lines = append(lines, hex...)
	}
	foot := wrapStatus(m.status, m.w)
	switch {
	case m.save != nil:
		foot = m.saveLines()
	case m.status == "":
		foot = []string{hints(m.w, "enter/l", "expand", "h", "collapse", "tab", "hex pane", "[ ]", "prev/next call", "y", "replay", "e", "export", "w", "pcapng", "esc", "back", "?", "help")}
	}
	for len(lines) < m.h-len(foot) {
		lines = append(lines, "")
	}
	lines = append(lines, foot...)
	return fit(lines, m.w)
}

func (d *detail) itemLine(i, w int) string {
	it := &d.items[i]
	text := strings.Repeat("  ", it.depth) + it.text
	if it.kind == kindField || it.kind == kindMessage {
		text = "  " + text
	}
	if it.kind == kindSection {
		text = styleSection.Render(text)
	}
	if i == d.cursor {
		mark := "> "
		if d.focus == 1 {
			mark = "» "
		}
		return styleSelected.Render(pad(mark+ansi.Strip(text), w))
	}
	return "  " + text
}
