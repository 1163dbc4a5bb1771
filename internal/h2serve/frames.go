package h2serve

import (
	"encoding/binary"

	"golang.org/x/net/http2"
)

// Protocol constants (RFC 9113).
const (
	initialWindow   = 65535
	maxWindow       = 1<<31 - 1
	minMaxFrameSize = 1 << 14
	maxMaxFrameSize = 1<<24 - 1
	frameHeaderLen  = 9
	clientPreface   = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
)

// appendFrameHeader appends the 9-byte header of a frame.
func appendFrameHeader(b []byte, length int, t http2.FrameType, flags http2.Flags, id uint32) []byte {
	return append(b, byte(length>>16), byte(length>>8), byte(length), byte(t), byte(flags),
		byte(id>>24)&0x7f, byte(id>>16), byte(id>>8), byte(id))
}

func appendSettings(b []byte, ss ...http2.Setting) []byte {
	b = appendFrameHeader(b, 6*len(ss), http2.FrameSettings, 0, 0)
	for _, s := range ss {
		b = binary.BigEndian.AppendUint16(b, uint16(s.ID))
		b = binary.BigEndian.AppendUint32(b, s.Val)
	}
	return b
}

func appendSettingsAck(b []byte) []byte {
	return appendFrameHeader(b, 0, http2.FrameSettings, http2.FlagSettingsAck, 0)
}

func appendPingAck(b []byte, data [8]byte) []byte {
	b = appendFrameHeader(b, 8, http2.FramePing, http2.FlagPingAck, 0)
	return append(b, data[:]...)
}

func appendWindowUpdate(b []byte, id uint32, incr uint32) []byte {
	b = appendFrameHeader(b, 4, http2.FrameWindowUpdate, 0, id)
	return binary.BigEndian.AppendUint32(b, incr&0x7fffffff)
}

func appendRSTStream(b []byte, id uint32, code http2.ErrCode) []byte {
	b = appendFrameHeader(b, 4, http2.FrameRSTStream, 0, id)
	return binary.BigEndian.AppendUint32(b, uint32(code))
}

func appendGoAway(b []byte, lastID uint32, code http2.ErrCode, debug string) []byte {
	b = appendFrameHeader(b, 8+len(debug), http2.FrameGoAway, 0, 0)
	b = binary.BigEndian.AppendUint32(b, lastID&0x7fffffff)
	b = binary.BigEndian.AppendUint32(b, uint32(code))
	return append(b, debug...)
}

// appendData appends one DATA frame carrying p.
func appendData(b []byte, id uint32, p []byte, end bool) []byte {
	var fl http2.Flags
	if end {
		fl = http2.FlagDataEndStream
	}
	b = appendFrameHeader(b, len(p), http2.FrameData, fl, id)
	return append(b, p...)
}

// appendHeaderBlock appends a HEADERS frame and as many CONTINUATION frames as the block
// needs at the peer's maximum frame size.
func appendHeaderBlock(b []byte, id uint32, block []byte, end bool, maxFrame int) []byte {
	first := true
	for {
		n := min(len(block), maxFrame)
		frag := block[:n]
		block = block[n:]
		var fl http2.Flags
		if len(block) == 0 {
			fl |= http2.FlagHeadersEndHeaders
		}
		if first {
			if end {
				fl |= http2.FlagHeadersEndStream
			}
			b = appendFrameHeader(b, n, http2.FrameHeaders, fl, id)
			first = false
		} else {
			b = appendFrameHeader(b, n, http2.FrameContinuation, fl&http2.FlagContinuationEndHeaders, id)
		}
		b = append(b, frag...)
		if len(block) == 0 {
			return b
		}
	}
}
