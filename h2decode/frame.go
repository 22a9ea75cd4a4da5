package h2decode

import (
	"encoding/binary"

	"golang.org/x/net/http2"
)

const frameHeaderLen = 9

// maxStrictFrameLen is the default SETTINGS_MAX_FRAME_SIZE. While looking for
// a frame boundary, longer frames are taken as evidence against a candidate.
const maxStrictFrameLen = 16384

type frameHeader struct {
	Length   uint32
	StreamID uint32
	Type     http2.FrameType
	Flags    http2.Flags
	reserved bool
}

func parseFrameHeader(b []byte) frameHeader {
	sid := binary.BigEndian.Uint32(b[5:9])
	return frameHeader{
		Length:   uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]),
		Type:     http2.FrameType(b[3]),
		Flags:    http2.Flags(b[4]),
		StreamID: sid & (1<<31 - 1),
		reserved: sid>>31 != 0,
	}
}

// definedFlags holds the flag bits each frame type defines (RFC 9113 §6).
var definedFlags = [...]http2.Flags{
	http2.FrameData:         http2.FlagDataEndStream | http2.FlagDataPadded,
	http2.FrameHeaders:      http2.FlagHeadersEndStream | http2.FlagHeadersEndHeaders | http2.FlagHeadersPadded | http2.FlagHeadersPriority,
	http2.FramePriority:     0,
	http2.FrameRSTStream:    0,
	http2.FrameSettings:     http2.FlagSettingsAck,
	http2.FramePushPromise:  http2.FlagPushPromiseEndHeaders | http2.FlagPushPromisePadded,
	http2.FramePing:         http2.FlagPingAck,
	http2.FrameGoAway:       0,
	http2.FrameWindowUpdate: 0,
	http2.FrameContinuation: http2.FlagContinuationEndHeaders,
}

// plausible reports whether h could be a frame header written by a real
// peer: a known type, only defined flags, the stream id and length its type
// requires. Peers may legally send more (unknown types, undefined flags), but
// when searching for a boundary in the middle of a stream such frames are far
// likelier to be payload bytes than headers.
func (h frameHeader) plausible(maxLen uint32) bool {
	if h.reserved || int(h.Type) >= len(definedFlags) || h.Flags&^definedFlags[h.Type] != 0 || h.Length > maxLen {
		return false
	}
	switch h.Type {
	case http2.FrameData, http2.FrameHeaders, http2.FrameContinuation, http2.FramePushPromise:
		return h.StreamID != 0
	case http2.FramePriority:
		return h.StreamID != 0 && h.Length == 5
	case http2.FrameRSTStream:
		return h.StreamID != 0 && h.Length == 4
	case http2.FrameSettings:
		if h.Flags.Has(http2.FlagSettingsAck) {
			return h.StreamID == 0 && h.Length == 0
		}
		return h.StreamID == 0 && h.Length%6 == 0
	case http2.FramePing:
		return h.StreamID == 0 && h.Length == 8
	case http2.FrameGoAway:
		return h.StreamID == 0 && h.Length >= 8
	case http2.FrameWindowUpdate:
		return h.Length == 4
	}
	return false
}
