//go:build !unix

package storage

import (
	"errors"
	"io/fs"
	"os"
	"time"
)

// staleGuard is how old a guard folder must be to be taken for one left by a process that
// died while holding it.
const staleGuard = 10 * time.Second

// guard takes the guard of the lock file p without waiting: the folder p+".guard", which only
// one creator makes. A guard older than staleGuard was left by a process that died and is
// removed; two processes that both find it stale at once may then both hold it (there is no
// flock here).
func guard(p string) (release func(), ok bool, err error) {
	g := p + ".guard"
	err = os.Mkdir(g, 0o700)
	if errors.Is(err, fs.ErrExist) {
		if fi, serr := os.Stat(g); serr == nil && time.Since(fi.ModTime()) > staleGuard {
			os.Remove(g)
		}
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return func() { os.Remove(g) }, true, nil
}
