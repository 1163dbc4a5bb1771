package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// render rewrites the reports of one run from its raw JSONL (the last run in the file unless
// runID is given), without running anything: for a changed report layout, or results copied
// from another machine. out is the directory for benchmarks.md and .png ("" = the run's own).
func render(jsonlPath, runID, out string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	f, err := os.Open(jsonlPath)
	if err != nil {
		return err
	}
	defer f.Close()
	type line struct {
		Kind string `json:"kind"`
		Run  string `json:"run"`
	}
	var lines [][]byte
	last := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		b := append([]byte(nil), sc.Bytes()...)
		var l line
		if err := json.Unmarshal(b, &l); err != nil {
			return fmt.Errorf("%s: %v", jsonlPath, err)
		}
		if l.Kind == "meta" {
			last = l.Run
		}
		lines = append(lines, b)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if runID == "" {
		runID = last
	}
	r := &runner{root: root, runID: runID, cmdSeen: map[string]bool{}}
	found := false
	for _, b := range lines {
		var l line
		_ = json.Unmarshal(b, &l)
		if l.Run != runID {
			continue
		}
		switch l.Kind {
		case "meta":
			var m struct {
				Env  envInfo `json:"env"`
				Opts options `json:"options"`
			}
			if err := json.Unmarshal(b, &m); err != nil {
				return err
			}
			r.env, r.opts, found = m.Env, m.Opts, true
		case "server":
			var v serverRun
			if err := json.Unmarshal(b, &v); err != nil {
				return err
			}
			r.serverRuns = append(r.serverRuns, v)
		case "idle":
			var v idleRun
			if err := json.Unmarshal(b, &v); err != nil {
				return err
			}
			r.idleRuns = append(r.idleRuns, v)
		case "client":
			var v clientRun
			if err := json.Unmarshal(b, &v); err != nil {
				return err
			}
			r.clientRuns = append(r.clientRuns, v)
		case "commands":
			var v struct {
				Commands []commandNote `json:"commands"`
				Problems []string      `json:"problems"`
				LoadAvg  string        `json:"load_avg_end"`
			}
			if err := json.Unmarshal(b, &v); err != nil {
				return err
			}
			r.commands, r.problems, r.env.LoadAvgEnd = v.Commands, v.Problems, v.LoadAvg
		}
	}
	if !found {
		return fmt.Errorf("%s: no run %q", jsonlPath, runID)
	}
	if r.started, err = time.ParseInLocation("20060102T150405", runID, time.Local); err != nil {
		return fmt.Errorf("run id %q: %v", runID, err)
	}
	if err := r.selectWork(r.opts.Only); err != nil {
		return err
	}
	abs, err := filepath.Abs(jsonlPath)
	if err != nil {
		return err
	}
	r.opts.Results = filepath.Dir(abs)
	if out != "" {
		r.opts.Out = out
	}
	return r.writeReports(abs)
}
