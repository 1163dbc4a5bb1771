//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/net/websocket"

	"github.com/httpskit/httpskit/internal/testenv"
)

// A keyboard user's view of the listing, through the Chrome DevTools protocol: real key
// presses (Input.dispatchKeyEvent), the focused element, and pixels.

// devTools is one page of a headless Chromium, driven over its DevTools WebSocket. Calls
// are sequential; events that arrive meanwhile are kept for waitEvent.
type devTools struct {
	ws     *websocket.Conn
	id     int
	events []string // methods of events received and not yet waited for
}

// openDevTools starts headless Chromium with home as HOME and a fresh profile, opens a blank
// page and returns it. Chromium's whole process group is killed when the test ends.
func openDevTools(t *testing.T, chromium, home string) *devTools {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	t.Cleanup(cancel)
	cmd := chromiumCommand(ctx, t, chromium, home, "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		"--remote-allow-origins=*", "--window-size=800,600", "about:blank")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	// Chromium says where DevTools listens on stderr: "DevTools listening on ws://HOST:PORT/...".
	var hostPort string
	var seen []string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		seen = append(seen, line)
		if _, rest, ok := strings.Cut(line, "DevTools listening on ws://"); ok {
			hostPort, _, _ = strings.Cut(rest, "/")
			break
		}
	}
	if hostPort == "" {
		t.Fatalf("chromium printed no DevTools address: %v\nstderr: %s", sc.Err(), browserErrors(strings.Join(seen, "\n")))
	}
	go io.Copy(io.Discard, stderr) // keep Chromium from blocking on a full pipe

	req, err := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+hostPort+"/json/new?about:blank", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("DevTools /json/new: %v", err)
	}
	defer resp.Body.Close()
	var target struct{ WebSocketDebuggerURL string }
	if err := json.NewDecoder(resp.Body).Decode(&target); err != nil || target.WebSocketDebuggerURL == "" {
		t.Fatalf("DevTools /json/new: %d, %v, no webSocketDebuggerUrl", resp.StatusCode, err)
	}
	ws, err := websocket.Dial(target.WebSocketDebuggerURL, "", "http://127.0.0.1/")
	if err != nil {
		t.Fatalf("DevTools WebSocket: %v", err)
	}
	ws.MaxPayloadBytes = 64 << 20 // screenshots
	deadline, _ := ctx.Deadline()
	ws.SetDeadline(deadline)
	t.Cleanup(func() { ws.Close() })
	return &devTools{ws: ws}
}

// call sends one DevTools command and returns its result, keeping the events received before it.
func (d *devTools) call(t *testing.T, method string, params any) json.RawMessage {
	t.Helper()
	d.id++
	if err := websocket.JSON.Send(d.ws, map[string]any{"id": d.id, "method": method, "params": params}); err != nil {
		t.Fatalf("DevTools %s: %v", method, err)
	}
	for {
		var msg struct {
			ID     int
			Method string
			Result json.RawMessage
			Error  *struct{ Message string }
		}
		if err := websocket.JSON.Receive(d.ws, &msg); err != nil {
			t.Fatalf("DevTools %s: %v", method, err)
		}
		switch {
		case msg.ID == 0 && msg.Method != "":
			d.events = append(d.events, msg.Method)
		case msg.ID != d.id:
		case msg.Error != nil:
			t.Fatalf("DevTools %s: %s", method, msg.Error.Message)
		default:
			return msg.Result
		}
	}
}

// waitEvent returns once the event method has arrived (it may have, during a call).
func (d *devTools) waitEvent(t *testing.T, method string) {
	t.Helper()
	for {
		for i, m := range d.events {
			if m == method {
				d.events = append(d.events[:i], d.events[i+1:]...)
				return
			}
		}
		var msg struct{ Method string }
		if err := websocket.JSON.Receive(d.ws, &msg); err != nil {
			t.Fatalf("DevTools: waiting for %s: %v", method, err)
		}
		if msg.Method != "" {
			d.events = append(d.events, msg.Method)
		}
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value into v.
func (d *devTools) eval(t *testing.T, expr string, v any) {
	t.Helper()
	var res struct {
		Result           struct{ Value json.RawMessage }
		ExceptionDetails *struct{ Text string }
	}
	if err := json.Unmarshal(d.call(t, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}), &res); err != nil {
		t.Fatal(err)
	}
	if res.ExceptionDetails != nil {
		t.Fatalf("evaluate %s: %s", expr, res.ExceptionDetails.Text)
	}
	if err := json.Unmarshal(res.Result.Value, v); err != nil {
		t.Fatalf("evaluate %s: %v (value %s)", expr, err, res.Result.Value)
	}
}

// press sends one key press (down, the character text gives if any, up) with the given DOM
// key name, key code and DevTools modifiers (8: Shift).
func (d *devTools) press(t *testing.T, key string, code int, text string, modifiers int) {
	t.Helper()
	ev := map[string]any{"key": key, "code": key, "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code, "modifiers": modifiers}
	ev["type"] = "rawKeyDown"
	d.call(t, "Input.dispatchKeyEvent", ev)
	if text != "" {
		d.call(t, "Input.dispatchKeyEvent", map[string]any{"type": "char", "key": key, "text": text, "modifiers": modifiers})
	}
	ev["type"] = "keyUp"
	d.call(t, "Input.dispatchKeyEvent", ev)
}

// screenshot returns the page's pixels inside r (CSS pixels, the device scale being 1).
func (d *devTools) screenshot(t *testing.T, r rect) image.Image {
	t.Helper()
	var res struct{ Data string }
	clip := map[string]any{"x": r.X, "y": r.Y, "width": r.W, "height": r.H, "scale": 1}
	if err := json.Unmarshal(d.call(t, "Page.captureScreenshot", map[string]any{"format": "png", "clip": clip}), &res); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return img
}

type rect struct{ X, Y, W, H float64 }

// focused describes document.activeElement.
type focused struct {
	Tag, Text, Href string
	Ring            bool // it matches :focus-visible and has a solid outline at least 1px wide
}

const activeElementJS = `(() => {
	const e = document.activeElement, s = getComputedStyle(e);
	return {tag: e.tagName, text: e.textContent, href: e.getAttribute("href") || "",
		ring: e.matches(":focus-visible") && s.outlineStyle === "solid" && parseFloat(s.outlineWidth) >= 1};
})()`

// TestBrowserListingKeyboard: in headless Chromium, Tab moves the focus through the
// listing's sort links (Name, Size, Modified) and then its entries, in the order shown, with
// a focus ring: the focused link matches :focus-visible with a solid outline, and the pixels
// around it change when it takes the focus. Enter on the Size link sorts by size.
func TestBrowserListingKeyboard(t *testing.T) {
	chromium := testenv.LookPath(t, "chromium", "chromium-browser") // the Debian or the Ubuntu name
	certutil := testenv.LookPath(t, "certutil")
	dir := t.TempDir()
	must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "alpha.txt"), []byte("alpha\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "beta.md"), bytes.Repeat([]byte("beta\n"), 100), 0o644))
	site := startServe(t, "--port", "0", "--host", "127.0.0.1", "--quiet", "--ca-root", filepath.Join(t.TempDir(), "ca"), dir)
	page := openDevTools(t, chromium, nssHome(t, certutil, site.caFile))
	page.call(t, "Page.enable", nil)
	page.call(t, "Emulation.setFocusEmulationEnabled", map[string]any{"enabled": true})
	page.call(t, "Page.navigate", map[string]any{"url": site.url})
	page.waitEvent(t, "Page.loadEventFired")
	var title string
	page.eval(t, "document.title", &title)
	if title != "Index of /" {
		t.Fatalf("page title %q, want the listing's", title)
	}

	want := []struct{ text, href string }{
		{"Name ↑", "?sort=name&order=desc"}, {"Size", "?sort=size&order=desc"}, {"Modified", "?sort=date&order=desc"},
		{"sub/", "./sub/"}, {"alpha.txt", "./alpha.txt"}, {"beta.md", "./beta.md"},
	}
	for i, w := range want {
		// The link's surroundings before it has the focus, to compare with after.
		var next rect
		page.eval(t, fmt.Sprintf(`(() => { const b = document.querySelectorAll("a")[%d].getBoundingClientRect();
			return {x: Math.max(0, b.x - 6), y: Math.max(0, b.y - 6), w: b.width + 12, h: b.height + 12}; })()`, i), &next)
		before := page.screenshot(t, next)
		page.press(t, "Tab", 9, "", 0)
		var got focused
		page.eval(t, activeElementJS, &got)
		if got.Tag != "A" || got.Text != w.text || got.Href != w.href {
			t.Fatalf("Tab %d: focus on <%s href=%q> %q, want the link %q to %q", i+1, got.Tag, got.Href, got.Text, w.text, w.href)
		}
		if !got.Ring {
			t.Errorf("Tab %d (%s): no focus ring (:focus-visible with a solid outline)", i+1, w.text)
		}
		if d := differingPixels(before, page.screenshot(t, next)); d < 20 {
			t.Errorf("Tab %d (%s): %d pixels around the link changed when it took the focus, want a visible ring (>= 20)", i+1, w.text, d)
		}
	}

	// Back to the Size link with Shift+Tab, and Enter: sorted by size.
	for range 4 {
		page.press(t, "Tab", 9, "", 8)
	}
	var got focused
	page.eval(t, activeElementJS, &got)
	if got.Text != "Size" {
		t.Fatalf("after 4 Shift+Tab: focus on %q, want Size", got.Text)
	}
	page.press(t, "Enter", 13, "\r", 0)
	page.waitEvent(t, "Page.loadEventFired")
	var sorted string
	page.eval(t, `location.search + " " + document.querySelector("th[aria-sort]").textContent`, &sorted)
	if sorted != "?sort=size&order=desc Size ↓" {
		t.Errorf("after Enter on Size: %q, want ?sort=size&order=desc with the Size column sorted descending", sorted)
	}
}

// differingPixels counts the pixels where a and b differ.
func differingPixels(a, b image.Image) int {
	n := 0
	r := a.Bounds().Intersect(b.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				n++
			}
		}
	}
	return n
}
