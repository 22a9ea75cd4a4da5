package h2decode

import "github.com/grpcsniff/grpcsniff/capture"

// Role is the part a side plays on a connection: the client opens streams
// (sends requests), the server answers them.
type Role uint8

const (
	// RoleClient is the side that sends requests.
	RoleClient Role = iota + 1
	// RoleServer is the side that answers them.
	RoleServer
)

// String is "client" or "server"; the zero Role names no side and is "".
func (r Role) String() string {
	switch r {
	case RoleClient:
		return "client"
	case RoleServer:
		return "server"
	}
	return ""
}

// RoleOf is the role of side s when client is the client's side.
func RoleOf(s, client capture.Side) Role {
	if s == client {
		return RoleClient
	}
	return RoleServer
}

// ClientEvidence says what showed which side of a connection is the client,
// weakest first: a later observation overrides an earlier one by the rules
// of Conn.setClient, and a call carries the evidence its roles rest on.
type ClientEvidence uint8

const (
	// ClientUnknown: nothing showed it (Conn.Client is SideA by default).
	ClientUnknown ClientEvidence = iota
	// ClientByPort: guessed from the port numbers, the higher one taken
	// for the client's (ephemeral) port. h2decode never guesses so; a
	// layer above that has to name a client does.
	ClientByPort
	// ClientByHandshake: the side that sent the TCP SYN.
	ClientByHandshake
	// ClientByHeaders: a header block with request pseudo-headers
	// (:method, :path) came from the side, or one with :status from the
	// other.
	ClientByHeaders
	// ClientByHTTP1: an HTTP/1.x request line came from the side, or a
	// status line from the other.
	ClientByHTTP1
	// ClientByUpgrade: the side sent an HTTP/1.1 request asking for an h2c
	// Upgrade, or the other side accepted one.
	ClientByUpgrade
	// ClientByPreface: the side sent the HTTP/2 client preface.
	ClientByPreface
)

// String names the evidence in one word: "port", "handshake", "headers",
// "http1.1", "upgrade", "preface"; "" for ClientUnknown.
func (e ClientEvidence) String() string {
	switch e {
	case ClientByPort:
		return "port"
	case ClientByHandshake:
		return "handshake"
	case ClientByHeaders:
		return "headers"
	case ClientByHTTP1:
		return "http1.1"
	case ClientByUpgrade:
		return "upgrade"
	case ClientByPreface:
		return "preface"
	}
	return ""
}

// ClientKnown reports whether something in the capture showed which side
// is the client (c.ClientBy), rather than Client being SideA by default.
func (c *Conn) ClientKnown() bool { return c.ClientBy != ClientUnknown }

// setClient records that side s is the client, on evidence e. Evidence up
// to ClientByHeaders only says who the client is when nothing else has;
// stronger evidence replaces whatever was known, the latest deciding.
func (c *Conn) setClient(s capture.Side, e ClientEvidence) {
	if e <= ClientByHeaders && c.ClientKnown() {
		return
	}
	c.Client, c.ClientBy = s, e
}
