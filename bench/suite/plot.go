package main

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

var errNothingToPlot = errors.New("no server figures to plot")

var serverColors = map[string]color.RGBA{
	"httpskit":          {0x1f, 0x77, 0xb4, 0xff},
	"httpskit-batching": {0x17, 0xbe, 0xcf, 0xff},
	"nethttp":           {0xff, 0x7f, 0x0e, 0xff},
	"nethttp-limits":    {0xff, 0xbb, 0x78, 0xff},
	"nginx":             {0x2c, 0xa0, 0x2c, 0xff},
	"node":              {0xd6, 0x27, 0x28, 0xff},
	"awesome":           {0x94, 0x67, 0xbd, 0xff},
}

var (
	black = color.RGBA{0, 0, 0, 0xff}
	grey  = color.RGBA{0x88, 0x88, 0x88, 0xff}
	light = color.RGBA{0xe4, 0xe4, 0xe4, 0xff}
	white = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

// panel is one chart: groups of bars, one bar per server.
type panel struct {
	Title  string
	Groups []string // group labels
	Bars   [][]bar  // per group, per server
}

type bar struct {
	Server string
	S      summary
}

// plotPanels builds the panels from the report: keep-alive, handshakes, idle memory.
func plotPanels(rep *report) []panel {
	var out []panel
	mk := func(title string, unit string) {
		p := panel{Title: title}
		for _, sc := range rep.Scenarios {
			if sc.Unit != unit {
				continue
			}
			var bars []bar
			for _, s := range rep.Servers {
				if sm := summarize(mapValues(rep.values(sc.Name, s.Name, usPerReq))); sm.N > 0 {
					bars = append(bars, bar{s.Name, sm})
				}
			}
			if len(bars) > 0 {
				p.Groups = append(p.Groups, sc.Label)
				p.Bars = append(p.Bars, bars)
			}
		}
		if len(p.Groups) > 0 {
			out = append(out, p)
		}
	}
	// basicfont has no µ.
	mk("keep-alive: server CPU us per request", "req")
	mk("new connection: server CPU us per handshake", "conn")
	if len(rep.IdleRuns) > 0 {
		p := panel{Title: "idle: KB per connection"}
		var rss, goKB []bar
		for _, s := range rep.Servers {
			if sm := summarize(mapValues(rep.idleValues(s.Name, func(r idleRun) float64 { return r.RSSKBPerConn }))); sm.N > 0 {
				rss = append(rss, bar{s.Name, sm})
			}
			if s.IsGo {
				if sm := summarize(mapValues(rep.idleValues(s.Name, func(r idleRun) float64 { return r.GoKBPerConn }))); sm.N > 0 {
					goKB = append(goKB, bar{s.Name, sm})
				}
			}
		}
		if len(rss) > 0 {
			p.Groups, p.Bars = append(p.Groups, "RSS"), append(p.Bars, rss)
		}
		if len(goKB) > 0 {
			p.Groups, p.Bars = append(p.Groups, "Go heap+stack"), append(p.Bars, goKB)
		}
		if len(p.Groups) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// writePlot draws the panels side by side with a title and a legend.
func writePlot(name string, rep *report) error {
	panels := plotPanels(rep)
	if len(panels) == 0 {
		return errNothingToPlot
	}
	const ph, top, bottom = 520, 70, 60
	pw := max(560, 1200/len(panels))
	W, H := pw*len(panels), top+ph+bottom
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	fill(img, img.Bounds(), white)
	title := fmt.Sprintf("httpskit benchmarks %s - %s, %d cores", dayOf(rep.Env.Date), rep.Env.CPUModel, rep.Env.Cores)
	textScaled(img, title, W/2, 12, 2, black, true)
	sub := fmt.Sprintf("median of %d interleaved rep(s) of %s (whiskers: min..max); servers on CPU %d, load generator on CPU %d; Linux %s; lower is better",
		rep.Opts.Reps, rep.Opts.Duration, serverCPU, loadCPU, rep.Env.Kernel)
	textScaled(img, sub, W/2, 44, 1, grey, true)
	for i, p := range panels {
		drawPanel(img, image.Rect(i*pw, top, (i+1)*pw, top+ph), p)
	}
	// Legend.
	x := 20
	y := top + ph + 22
	for _, s := range rep.Servers {
		fill(img, image.Rect(x, y, x+18, y+14), serverColors[s.Name])
		textScaled(img, s.Label, x+24, y, 1, black, false)
		x += 24 + len(s.Label)*7*1 + 30
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func drawPanel(img *image.RGBA, r image.Rectangle, p panel) {
	textScaled(img, p.Title, (r.Min.X+r.Max.X)/2, r.Min.Y+4, 1, black, true)
	plot := image.Rect(r.Min.X+60, r.Min.Y+30, r.Max.X-20, r.Max.Y-40)
	maxV := 0.0
	for _, g := range p.Bars {
		for _, b := range g {
			maxV = math.Max(maxV, math.Max(b.S.Max, b.S.Median))
		}
	}
	step := niceStep(maxV / 5)
	top := math.Ceil(maxV*1.12/step) * step
	if top <= 0 {
		top, step = 1, 0.2
	}
	yOf := func(v float64) int {
		return plot.Max.Y - int(math.Round(v/top*float64(plot.Dy())))
	}
	for v := 0.0; v <= top+step/2; v += step {
		y := yOf(v)
		hline(img, plot.Min.X, plot.Max.X, y, light)
		label := fmtNum(v)
		if step >= 1 {
			label = fmt.Sprintf("%.0f", v)
		}
		textScaled(img, label, plot.Min.X-6-len(label)*7, y-7, 1, grey, false)
	}
	vline(img, plot.Min.X, plot.Min.Y, plot.Max.Y, grey)
	hline(img, plot.Min.X, plot.Max.X, plot.Max.Y, grey)
	gw := plot.Dx() / max(len(p.Groups), 1)
	for gi, g := range p.Bars {
		gx := plot.Min.X + gi*gw
		textScaled(img, p.Groups[gi], gx+gw/2, plot.Max.Y+8, 1, black, true)
		n := len(g)
		bw := min((gw-30)/max(n, 1), 70)
		x0 := gx + (gw-bw*n)/2
		for bi, b := range g {
			x := x0 + bi*bw
			fill(img, image.Rect(x+3, yOf(b.S.Median), x+bw-3, plot.Max.Y), serverColors[b.Server])
			if b.S.N > 1 && b.S.Max > b.S.Min {
				cx := x + bw/2
				vline(img, cx, yOf(b.S.Max), yOf(b.S.Min), black)
				hline(img, cx-4, cx+4, yOf(b.S.Max), black)
				hline(img, cx-4, cx+4, yOf(b.S.Min), black)
			}
			label := fmtNum(b.S.Median)
			ly := min(yOf(b.S.Median), yOf(b.S.Max)) - 15
			textScaled(img, label, x+bw/2, ly, 1, black, true)
		}
	}
}

// niceStep rounds a raw tick step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) { fill(img, image.Rect(x0, y, x1+1, y+1), c) }
func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) { fill(img, image.Rect(x, y0, x+1, y1+1), c) }

// textScaled draws s with the 7x13 basic font, scaled by an integer factor, its top at y and
// either starting at x or centred on it.
func textScaled(img *image.RGBA, s string, x, y, scale int, c color.RGBA, centre bool) {
	face := basicfont.Face7x13
	w := font.MeasureString(face, s).Ceil()
	small := image.NewRGBA(image.Rect(0, 0, w, 13))
	d := &font.Drawer{Dst: small, Src: image.NewUniform(c), Face: face, Dot: fixed.P(0, 11)}
	d.DrawString(s)
	W := w * scale
	if centre {
		x -= W / 2
	}
	dst := image.Rect(x, y, x+W, y+13*scale)
	xdraw.NearestNeighbor.Scale(img, dst, small, small.Bounds(), xdraw.Over, nil)
}
