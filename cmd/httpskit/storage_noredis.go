//go:build noredis

package main

import (
	"context"
	"errors"

	"github.com/httpskit/httpskit/storage"
)

// redisSupport says in `httpskit version` whether --storage takes a Redis URL.
const redisSupport = false

// openRedis refuses: this build leaves the Redis client out (build tag noredis).
func openRedis(string) (storage.Storage, func(context.Context) error, func(), error) {
	return nil, nil, nil, errors.New("this httpskit was built without Redis (build tag noredis): give a directory, or use a build with Redis")
}
