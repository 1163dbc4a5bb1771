package testenv

import (
	"fmt"
	"io"
	"net"
	"time"

	"golang.org/x/net/http2"
)

// H2Settings speaks the opening of HTTP/2 on c, a connection on which h2 was negotiated,
// and returns the SETTINGS the server announces and its connection flow-control window
// (65535 plus its first connection WINDOW_UPDATE). It gives up after 30 seconds.
func H2Settings(c net.Conn) (map[http2.SettingID]uint32, uint32, error) {
	c.SetDeadline(time.Now().Add(Scale(30 * time.Second)))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		return nil, 0, err
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		return nil, 0, err
	}
	settings := map[http2.SettingID]uint32{}
	window := uint32(65535)
	for gotSettings, gotWindow := false, false; !gotSettings || !gotWindow; {
		f, err := fr.ReadFrame()
		if err != nil {
			return nil, 0, fmt.Errorf("reading the server's opening frames: %w", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				f.ForeachSetting(func(s http2.Setting) error { settings[s.ID] = s.Val; return nil })
				gotSettings = true
			}
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 {
				window += f.Increment
				gotWindow = true
			}
		}
	}
	return settings, window, nil
}
