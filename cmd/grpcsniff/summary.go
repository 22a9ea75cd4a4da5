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

// summarize tells the user, on stderr, what was read and what went wrong,
// naming the flag that changes each limit that was hit; filtered says how
// many calls -Y let through.
func summarize(w io.Writer, sum sniff.Summary, l *limits, filtered bool) {
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
	fmt.Fprintf(w, "%s: %s; %s, %s", progName, calls, export.Count(st.Packets, "packet"), export.Count(st.Connections, "TCP connection"))
	if len(kinds) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(kinds, ", "))
	}
	fmt.Fprintln(w)
	if st.Gaps > 0 {
		fmt.Fprintf(w, "%s: %d gaps in TCP streams, %d bytes not captured (%d of them cut by the snap length)\n", progName, st.Gaps, st.GapBytes, st.TruncatedBytes)
	}
	if st.Malformed > 0 {
		fmt.Fprintf(w, "%s: %s skipped\n", progName, export.Count(st.Malformed, "malformed packet"))
	}
	if st.Unsupported > 0 {
		fmt.Fprintf(w, "%s: %d packets of unsupported link types %v skipped\n", progName, st.Unsupported, st.UnsupportedLinkTypes)
	}
	limitsHit(w, sum, l)
	for i, n := range cs.ConnNotes {
		if i == maxConnNotes {
			fmt.Fprintf(w, "%s: … and %d more connection notes\n", progName, len(cs.ConnNotes)-i+cs.MoreConnNotes)
			break
		}
		fmt.Fprintf(w, "%s: %s\n", progName, n.Text)
	}
	for _, n := range sum.TLS {
		fmt.Fprintf(w, "%s: TLS %s\n", progName, n)
	}
	if sum.MoreTLS > 0 {
		fmt.Fprintf(w, "%s: … and %d more TLS connections like these\n", progName, sum.MoreTLS)
	}
	if sum.Harvested > 0 {
		fmt.Fprintf(w, "%s: %s taken from reflection calls in the capture\n", progName, export.Count(sum.Harvested, "schema file"))
	}
}

// limitsHit says which limits the input ran into, and the flag of each.
func limitsHit(w io.Writer, sum sniff.Summary, l *limits) {
	st, cs := sum.Capture, sum.Calls
	if cs.OverSize > 0 {
		fmt.Fprintf(w, "%s: %d messages cut at the size limit (%d bytes after decompression; see --max-message-size)\n", progName, cs.OverSize, l.maxMessage)
	}
	if cs.HeaderListCut > 0 {
		fmt.Fprintf(w, "%s: %d header lists cut at the size limit (%d bytes; see --max-header-list)\n", progName, cs.HeaderListCut, l.maxHeaderList)
	}
	if cs.TableOverLimit > 0 {
		fmt.Fprintf(w, "%s: %d header blocks asked for an HPACK table larger than the limit (%d bytes; see --max-hpack-table)\n", progName, cs.TableOverLimit, l.maxHPACKTable)
	}
	if cs.Evicted > 0 {
		fmt.Fprintf(w, "%s: %s evicted (more than %d open on one connection; see --max-streams)\n", progName, export.Count(cs.Evicted, "stream"), l.maxStreams)
	}
	if st.Evicted > 0 {
		fmt.Fprintf(w, "%s: %s dropped because more than the connection limit were open (see --max-connections)\n", progName, export.Count(st.Evicted, "connection"))
	}
}
