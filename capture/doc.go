// Package capture turns network captures into TCP byte streams.
//
// It has three parts, used in this order:
//
//   - Sources: FileSource reads pcap (microsecond and nanosecond, either
//     byte order) and pcapng (several interfaces with different link types,
//     several sections), plain or gzip-compressed, recognised by their
//     first bytes and never by file name. Damaged files yield the packets
//     before the damage and then a *FileError that says what is wrong in
//     words meant for the user. No record may claim more than 16 MiB, so a
//     corrupt or hostile file cannot make the reader allocate gigabytes.
//
//   - Decoding: DecodePacket reads Ethernet (with 802.1Q and QinQ tags,
//     MPLS, PPPoE), Linux cooked SLL and SLL2, BSD loopback, PPP and raw IP
//     link layers, IPv4 and IPv6 (skipping extension headers), and TCP, by
//     hand and without allocating. It reports snap-length truncation as the
//     number of payload bytes missing. Anything else is classified and
//     counted, never fatal.
//
//   - Reassembly: an Assembler follows TCP connections and delivers each
//     direction's bytes in order to a ConnHandler from the layer above,
//     with explicit Gaps where the capture lost bytes.
//
// # Why the reassembly is not gopacket/reassembly
//
// The layer above parses HTTP/2 frames out of the streams, and a frame
// parser that has lost bytes must know exactly how many to stay in step or
// to resynchronise. So this package needs:
//
//   - byte-exact gaps reported to the layer above, as soon as the capture
//     shows the bytes will not come: a hole is given up once the receiver
//     has acknowledged bytes past it (it got them; the capture did not)
//     and the capture has moved on by a reorder window since
//     (Options.ReorderWindow and ReorderSegments, 200 ms and 32 segments),
//     so that a segment the capture merely recorded after its ACK still
//     fills it; when the bytes held out of order for a direction, or for
//     all connections together, exceed a bound; or when the stream ends.
//     Bytes cut off by the snap length are reported as a gap right after
//     the part that was captured.
//     gopacket/reassembly does not use acknowledgements to give up a hole:
//     it skips one on a page limit or a time-based flush;
//   - causal order across directions: a segment that acknowledges bytes of
//     the other direction not delivered yet was sent after them, so it is
//     held until they are (or are given up), and a response never reaches
//     the layer above before the request it answers; when such held bytes
//     have waited out the reorder window, the other direction's holes
//     before them are given up first, so the loss still comes before them;
//     a RST captured ahead of bytes it follows (its own, or the other
//     direction's that its sender acknowledged in any earlier segment)
//     ends the connection once they are in, and a SYN or SYN-ACK captured
//     after the first segments of its side belongs to the connection;
//   - per-chunk timestamps: every Data call carries the capture time of
//     the packet that brought those bytes, even when they were held out of
//     order, so latencies are measured from the wire;
//   - deterministic order: one goroutine, handler calls in capture order
//     for each connection and across connections, connections numbered by
//     first appearance, and an end-of-capture flush in that order, so two
//     runs over one file produce identical output; gopacket/reassembly is
//     built around a locked connection pool for concurrent assemblers;
//   - bounded memory per direction and for all connections together, in
//     bytes (Options.MaxBufferedPerDirection and MaxBufferedTotal), and per
//     table (Options.MaxConnections, evicting the connection idle the
//     longest), where gopacket/reassembly counts pages per connection and
//     in total;
//   - no allocation per packet on the hot path: headers are decoded by
//     hand rather than into gopacket layers, in-order payload is handed to
//     the handler as a slice of the packet buffer, and only segments that
//     arrive ahead of a hole are copied, into pooled buffers.
//
// Sequence numbers are compared with serial arithmetic throughout, so
// streams that wrap at 2^32 work.
//
// # Connection semantics
//
// A connection is keyed by its unordered pair of endpoints and starts with
// its first captured segment (a lone RST starts none). SideA is the SYN's
// sender when the handshake was captured (ConnInfo.SYNSeen), else the
// sender of the first captured segment. Without a SYN, a direction's
// stream starts where the other side's first acknowledgement after its
// own SYN says (that answers the SYN-ACK), or else at the first segment
// seen in it; bytes captured late right before that start are put in
// front while nothing of the stream has been delivered. A SYN with a new
// initial sequence number on the same endpoints, or any SYN after the
// connection ended, starts a new connection and ends the old one.
//
// A connection ends with EndFIN once both directions have delivered up to
// their FIN, with EndRST on a reset, with EndEvicted when the table is full,
// when it was idle past Options.IdleTimeout or when a new connection reused
// its ports (EndFIN instead if a FIN had been seen), and with EndCapture
// when Assembler.Close finds it still open. Ended connections stay in the
// table, so that late retransmissions and ACKs are recognised and dropped
// rather than starting new connections, until their slot is needed or they
// have been idle for Options.IdleTimeout.
//
// An Assembler never hands a handler empty Data, and the Gap sizes it
// reports are always known and positive (a layer between it and the
// handler may report -1 for a size it cannot know: see ConnHandler.Gap).
// A HandlerFactory may return nil to ignore a connection; it is then only
// followed to see it end, and nothing of it is buffered.
//
// The ConnInfo a factory is handed is the connection's record for every
// layer above: a TLS layer (tlsdecrypt) fills in its TLS facts (TLSInfo),
// which this package defines so that the layers above can name them
// without importing the TLS layer, and never reads.
package capture
