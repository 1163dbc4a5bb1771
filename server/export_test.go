package server

// BenchObservers lets external test files (package server_test) hand BenchmarkServeFile
// observers from packages that import server themselves, such as internal/metrics'
// Collector, which this package's own test files cannot import (an import cycle). Each is
// added by name in an init function, before any benchmark runs.
var BenchObservers = benchObservers

// benchObservers are the observers BenchmarkServeFile adds rows for, by name.
var benchObservers = map[string]Observer{}
