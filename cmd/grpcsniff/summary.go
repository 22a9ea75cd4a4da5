package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/sniff"
)

// maxConnNotes bounds the connection notes printed.
const maxConnNotes = 20

// summarize tells the user, on stderr, what was read and what went wrong:
// the counts (with how many calls -Y let through when filtered), then the
// notes.
func summarize(w io.Writer, sum sniff.Summary, notes []string, filtered bool) {
	fmt.Fprintf(w, "%s: %s\n", progName, summaryCounts(sum, filtered))
	for _, n := range notes {
		// A note can quote what a capture said (an Upgrade header's
		// protocol); a terminal must not obey it.
		fmt.Fprintf(w, "%s: %s\n", progName, export.Printable(n))
	}
}

// summaryCounts is the first line of the summary: calls, packets and
// connections by kind.
func summaryCounts(sum sniff.Summary, filtered bool) string {
	st, cs := sum.Capture, sum.Calls
	var kinds []string
	for k, n := range cs.ByKind {
		kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(kinds)
	calls := export.Count(sum.Found, "call")
	if filtered {
		calls += fmt.Sprintf(" (%d shown by -Y)", sum.Shown)
	}
	line := fmt.Sprintf("%s; %s, %s", calls, export.Count(st.Packets, "packet"), export.Count(st.Connections, "TCP connection"))
	if len(kinds) > 0 {
		line += " (" + strings.Join(kinds, ", ") + ")"
	}
	return line
}

// summaryNotes are what the reading noticed beyond the calls, a line each:
// bytes lost, limits hit (naming the flag that changes each), connections
// not decoded and why, TLS connections not decrypted (with --keylog's hint
// when none was given), schemas taken from the capture. The interactive
// view shows the same lines.
func summaryNotes(sum sniff.Summary, l *limits, keylog bool) []string {
	st, cs := sum.Capture, sum.Calls
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	if st.Gaps > 0 {
		add("%d gaps in TCP streams, %d bytes not captured (%d of them cut by the snap length)", st.Gaps, st.GapBytes, st.TruncatedBytes)
	}
	if st.Malformed > 0 {
		add("%s skipped", export.Count(st.Malformed, "malformed packet"))
	}
	if st.Unsupported > 0 {
		add("%d packets of unsupported link types %v skipped", st.Unsupported, st.UnsupportedLinkTypes)
	}
	out = append(out, limitsHit(sum, l)...)
	for i, n := range cs.ConnNotes {
		if i == maxConnNotes {
			add("… and %d more connection notes", len(cs.ConnNotes)-i+cs.MoreConnNotes)
			break
		}
		out = append(out, n.Text)
	}
	for _, n := range sum.TLS {
		add("TLS %s", n)
	}
	if sum.MoreTLS > 0 {
		add("… and %d more TLS connections like these", sum.MoreTLS)
	}
	if !keylog && lacksKeys(sum.TLS) {
		add("the TLS connections decrypt with their session keys: give the key log with --keylog FILE (SSLKEYLOGFILE of curl and browsers, Go's KeyLogWriter, Node's keylog event)")
	}
	if sum.Harvested > 0 {
		add("%s taken from reflection calls in the capture", export.Count(sum.Harvested, "schema file"))
	}
	return out
}

// limitsHit says which limits the input ran into, and the flag of each.
func limitsHit(sum sniff.Summary, l *limits) []string {
	st, cs := sum.Capture, sum.Calls
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	if cs.OverSize > 0 {
		add("%d messages cut at the size limit (%d bytes after decompression; see --max-message-size)", cs.OverSize, l.maxMessage)
	}
	if cs.HeaderListCut > 0 {
		add("%d header lists cut at the size limit (%d bytes; see --max-header-list)", cs.HeaderListCut, l.maxHeaderList)
	}
	if cs.TableOverLimit > 0 {
		add("%d header blocks asked for an HPACK table larger than the limit (%d bytes; see --max-hpack-table)", cs.TableOverLimit, l.maxHPACKTable)
	}
	if cs.Evicted > 0 {
		add("%s evicted (more than %d open on one connection; see --max-streams)", export.Count(cs.Evicted, "stream"), l.maxStreams)
	}
	if st.Evicted > 0 {
		add("%s dropped because more than the connection limit were open (see --max-connections)", export.Count(st.Evicted, "connection"))
	}
	return out
}

// lacksKeys reports whether a TLS connection was left encrypted for want of
// its key (rather than for a key that did not fit, or lost bytes).
func lacksKeys(notes []sniff.TLSNote) bool {
	for _, n := range notes {
		if !n.Info.Decrypted && strings.Contains(n.Info.Problem, "no key") {
			return true
		}
	}
	return false
}
