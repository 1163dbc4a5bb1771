//go:build unix

package storage

import (
	"errors"
	"os"
	"syscall"
)

// guard takes the guard of the lock file p without waiting: an exclusive flock(2) on
// p+".guard", which excludes other open files of it in this process and in others, and which
// the kernel releases if the process dies. ok is false when someone else holds it.
func guard(p string) (release func(), ok bool, err error) {
	f, err := os.OpenFile(p+".guard", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return func() { f.Close() }, true, nil // closing releases the flock
}
