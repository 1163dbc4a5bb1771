package server_test

import (
	"github.com/httpskit/httpskit/internal/metrics"
	"github.com/httpskit/httpskit/server"
)

// The Collector of `serve --metrics-addr` as an Observer, for BenchmarkServeFile.
func init() { server.BenchObservers["metrics"] = metrics.New(nil) }
