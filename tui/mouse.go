package tui

import tea "charm.land/bubbletea/v2"

// click selects what is under the pointer: a row of the list or a line of
// the detail tree. Clicking what is already selected acts like enter (opens
// the call, expands or collapses the line), so that a mouse user needs no
// keys for the common path; a double click is two clicks in a row anyway.
func (m *Model) click(ms tea.Mouse) {
	if ms.Button != tea.MouseLeft || m.prompt {
		return
	}
	switch m.screen {
	case screenList:
		// The title and the column headings are above the first row.
		r := ms.Y - 2
		if r < 0 || r >= m.listHeight() || m.top+r >= len(m.rows) {
			return
		}
		if m.top+r == m.cursor {
			m.openDetail(m.rows[m.cursor])
			return
		}
		m.cursor = m.top + r
		m.follow = m.cursor == len(m.rows)-1
	case screenDetail:
		d := m.detail
		tree, _ := m.detailPanes()
		r := ms.Y - 1
		if m.sideBySide() && ms.X >= m.treeWidth() || r >= tree {
			// The hex pane: give it the keys.
			if r >= 0 && r < m.h-m.footerHeight()-1 {
				d.focus = 1
			}
			return
		}
		if r < 0 || d.top+r >= len(d.items) {
			return
		}
		d.focus = 0
		if d.top+r == d.cursor {
			d.toggle(!d.items[d.cursor].open)
			return
		}
		d.cursor = d.top + r
		d.hexTop = 0
	}
}
