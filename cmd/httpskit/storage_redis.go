//go:build !noredis

package main

import (
	"context"

	"github.com/httpskit/httpskit/storage"
	"github.com/httpskit/httpskit/storage/redisstore"
)

// redisSupport says in `httpskit version` whether --storage takes a Redis URL.
const redisSupport = true

// openRedis opens a Redis storage for serve --storage. The client's own log lines are
// silenced: serve reports storage failures itself.
func openRedis(url string) (storage.Storage, func(context.Context) error, func(), error) {
	redisstore.SilenceClientLog()
	st, err := redisstore.New(redisstore.Options{URL: url})
	if err != nil {
		return nil, nil, nil, err
	}
	return st, st.Ping, func() { st.Close() }, nil
}
