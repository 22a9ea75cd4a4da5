package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/grpcsniff/grpcsniff/filter"
	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// screen is what fills the terminal.
type screen uint8

const (
	screenList screen = iota
	screenDetail
	screenStats
	screenHelp
	screenNotes
	screenWaterfall
)

// Model is the UI's state. It is a tea.Model; [Run] is the usual way in,
// and tests drive it directly or through teatest.
type Model struct {
	opts    Options
	updates <-chan Update
	w, h    int

	// calls are kept as given; rows indexes the ones the filter selects,
	// in display order, so that filtering and sorting never copy calls.
	calls []*grpcframe.Call
	rows  []int32
	// recs holds the record of each call, what the list shows, sorts and
	// filters by; in interns its strings.
	recs []rec
	in   interner
	// window, when set, shows only the calls that started in a stretch of
	// the capture chosen on the statistics' chart.
	window *timeWindow
	// scratch is the summary the filter reads a record through; sortBuf
	// the sort keys, kept for the next sort.
	scratch filter.Summary
	sortBuf []sortEnt
	// keptBytes estimates the memory of the calls kept in full; released
	// counts those let go (nil in calls), reloadedIdx those read again
	// (oldest first); filtering is a filter being run over the capture.
	keptBytes   int64
	released    int
	reloadedIdx []int32
	filtering   *filter.Expr
	// next is a command a handler left to run after it (reading the
	// capture again); Update returns it.
	next tea.Cmd
	// open indexes the calls still open by their key: their later copies
	// and the calls themselves replace them in calls.
	open   map[callKey]int32
	base   time.Time // earliest start seen: the zero of relative times
	expr   *filter.Expr
	sortBy sortKey
	// sortRev turns the key's first direction (sortKey.descending) round.
	sortRev bool

	cursor, top int  // in rows
	follow      bool // the cursor sticks to the last row as rows arrive

	screen screen
	back   screen // where help returns to

	// The filter prompt: input is being typed; inputErr is why it does not
	// parse (the list then keeps the last valid filter); before is the
	// filter to restore on esc.
	prompt   bool
	input    string
	inputErr string
	// inputWarn is what the filter typed may match nothing for (a field
	// named without a schema loaded).
	inputWarn string
	before    *filter.Expr

	status   string  // one-line message (copied command, export result)
	quitting bool    // q was pressed in the list: the next key decides
	save     *saving // the prompt for a file name, when open
	progress Progress
	closed   bool

	detail  *detail
	stats   *statsView
	helpTop int
	// notesTop is the scroll of the notes screen.
	notesTop int
	// waterfall is the connection shown on its time axis.
	waterfall *waterfall

	// dropped counts the calls forgotten beyond MaxCalls; cut maps the
	// messages cut to MaxMessageBytes to their full size.
	dropped int
	cut     map[*grpcframe.Message]int

	// statsAt is when the statistics were last computed; statsPending is
	// set while a recomputation is scheduled (see refreshStats).
	statsAt      time.Time
	statsPending bool
	now          func() time.Time // time.Now; tests replace it

	// lastCopy is the text last sent to the clipboard (tests read it).
	lastCopy string
}

// New returns the model for updates and opts; it fails only when
// opts.Filter does not parse.
func New(updates <-chan Update, opts Options) (*Model, error) {
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Schema == nil && opts.Registry != nil {
		// The registry that names fields on screen resolves them in filters.
		opts.Schema = opts.Registry
	}
	expr, err := filter.ParseWith(opts.Filter, filter.Options{Schema: opts.Schema})
	if err != nil {
		return nil, err
	}
	if opts.MaxMessageBytes == 0 {
		opts.MaxMessageBytes = DefaultMaxMessageBytes
	}
	return &Model{opts: opts, updates: updates, expr: expr, follow: opts.Live, w: 80, h: 24, now: time.Now}, nil
}

// takeNext returns cmd and the command a handler left in m.next.
func (m *Model) takeNext(cmd tea.Cmd) tea.Cmd {
	next := m.next
	m.next = nil
	if next == nil {
		return cmd
	}
	return tea.Batch(cmd, next)
}

// Init starts reading the feed.
func (m *Model) Init() tea.Cmd { return waitUpdates(m.updates) }

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = max(msg.Width, 20), max(msg.Height, 6)
		m.clampList()
		if d := m.detail; d != nil && d.width != m.treeWidth() {
			d.width = m.treeWidth()
			d.reflow()
		}
		return m, nil
	case batchMsg:
		m.addCalls(msg.calls)
		var stats tea.Cmd
		if len(msg.calls) > 0 {
			stats = m.refreshStats()
		}
		if msg.progress != nil {
			notes := m.progress.Notes
			m.progress = *msg.progress
			if m.progress.Notes == nil {
				m.progress.Notes = notes
			}
		}
		if msg.closed {
			m.closed = true
			m.progress.Done = true
			return m, stats
		}
		return m, tea.Batch(stats, waitUpdates(m.updates))
	case statsTickMsg:
		m.statsPending = false
		if m.screen == screenStats || m.back == screenStats && m.screen == screenHelp {
			m.computeStats()
		}
		return m, nil
	case exportedMsg:
		m.status = msg.text
		return m, nil
	case reloadedMsg:
		return m, m.reloaded(msg)
	case filteredMsg:
		m.filtered(msg)
		return m, nil
	case tea.MouseWheelMsg:
		return m, m.wheel(msg)
	case tea.MouseClickMsg:
		m.click(msg.Mouse())
		return m, m.takeNext(nil)
	case tea.KeyPressMsg:
		return m, m.takeNext(m.key(msg))
	}
	return m, nil
}

// quitKey is q: in a screen above the list it goes back, as esc does (the
// convention of k9s and less); in the list it asks first, so that a q
// meant for another program does not throw away a capture being read.
func (m *Model) quitKey() tea.Cmd {
	switch m.screen {
	case screenList:
		m.quitting = true
	case screenDetail:
		m.screen, m.detail = screenList, nil
	case screenStats:
		m.screen = screenList
	case screenHelp:
		m.screen = m.back
	case screenNotes, screenWaterfall:
		m.screen = screenList
	}
	return nil
}

// key dispatches a key press to the prompt or the current screen.
func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	if k.String() == "ctrl+c" {
		return tea.Quit
	}
	if m.prompt {
		m.promptKey(k)
		return nil
	}
	if m.save != nil {
		return m.saveKey(k)
	}
	s := k.String()
	if m.quitting {
		// The list asked whether to quit: q or y quits, any other key
		// stays (and does nothing else).
		m.quitting = false
		if s == "q" || s == "y" {
			return tea.Quit
		}
		return nil
	}
	switch s {
	case "q":
		return m.quitKey()
	case "?":
		if m.screen == screenHelp {
			m.screen = m.back
		} else {
			m.back, m.screen, m.helpTop = m.screen, screenHelp, 0
		}
		return nil
	}
	switch m.screen {
	case screenList:
		return m.listKey(s)
	case screenDetail:
		return m.detailKey(s)
	case screenStats:
		m.statsKey(s)
	case screenHelp:
		m.helpKey(s)
	case screenNotes:
		m.notesKey(s)
	case screenWaterfall:
		return m.waterfallKey(s)
	}
	return nil
}

func (m *Model) wheel(w tea.MouseWheelMsg) tea.Cmd {
	down := w.Button == tea.MouseWheelDown
	switch m.screen {
	case screenList:
		if down {
			m.moveCursor(3)
		} else {
			m.moveCursor(-3)
		}
	case screenDetail:
		if down {
			m.detail.move(3)
		} else {
			m.detail.move(-3)
		}
	case screenStats:
		if down {
			m.statsKey("j")
		} else {
			m.statsKey("k")
		}
	}
	return nil
}

// View renders the current screen.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "grpcsniff " + m.opts.Title
	return v
}

// Render returns the screen as text with styles; tests strip the styles
// for golden files.
func (m *Model) Render() string {
	switch m.screen {
	case screenDetail:
		return m.renderDetail()
	case screenStats:
		return m.renderStats()
	case screenHelp:
		return m.renderHelp()
	case screenNotes:
		return m.renderNotes()
	case screenWaterfall:
		return m.renderWaterfall()
	}
	return m.renderList()
}
