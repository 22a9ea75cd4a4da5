package capture

import (
	"net/netip"
	"time"
)

// Side names one direction of a TCP connection by its sender.
type Side uint8

const (
	// SideA is the side that sent the SYN or, when the handshake was not
	// captured, the sender of the first captured segment. Only in the first
	// case is it known to be the client; see ConnInfo.SYNSeen.
	SideA Side = 0
	// SideB is the other side.
	SideB Side = 1
)

// Other returns the opposite side.
func (s Side) Other() Side { return s ^ 1 }

// ConnInfo describes a TCP connection as first seen in the capture.
type ConnInfo struct {
	// ID numbers connections from 1 in the order their first packet appears
	// in the capture, so it is stable across runs.
	ID uint64
	// Addr holds the endpoints: Addr[SideA] sent the first segment (or SYN).
	Addr [2]netip.AddrPort
	// SYNSeen is true when the three-way handshake's SYN was captured, so
	// SideA is known to be the client rather than guessed.
	SYNSeen bool
	// Start is the timestamp of the connection's first captured packet.
	Start time.Time
	// TLS is set by a TLS layer (tlsdecrypt) when the connection is TLS:
	// what it learnt of the connection, which it keeps updating as the
	// handshake progresses. Nil for a connection in cleartext.
	TLS *TLSInfo
}

// EndReason says why a connection's handler will get no more data.
type EndReason uint8

const (
	EndFIN     EndReason = iota + 1 // both sides sent FIN (or one sent FIN and the connection went idle)
	EndRST                          // a RST was seen
	EndEvicted                      // the connection table was full, the connection idle, or a new connection reused its ports; it was dropped
	EndCapture                      // the capture ended with the connection still open
)

func (r EndReason) String() string {
	switch r {
	case EndFIN:
		return "fin"
	case EndRST:
		return "rst"
	case EndEvicted:
		return "evicted"
	case EndCapture:
		return "capture_end"
	}
	return "unknown"
}

// ConnHandler receives one connection's reassembled byte streams. Calls for a
// connection are made in capture order, never concurrently.
type ConnHandler interface {
	// Data delivers the next in-order bytes sent by side s. t is the
	// timestamp of the packet that carried them. data is only valid during
	// the call.
	Data(s Side, data []byte, t time.Time)
	// Gap reports that n bytes sent by side s were not captured (packet loss,
	// snaplen truncation, or a hole given up on to bound memory); the next
	// Data for s continues after them. From an Assembler n is always known
	// and positive; a layer that hands a handler bytes of its own making,
	// such as the plaintext of TLS records (tlsdecrypt), passes -1 when it
	// cannot know how many were lost.
	Gap(s Side, n int64, t time.Time)
	// End is the last call for the connection.
	End(reason EndReason, t time.Time)
}

// HandlerFactory makes a handler for each new connection.
type HandlerFactory interface {
	NewConn(info *ConnInfo) ConnHandler
}
