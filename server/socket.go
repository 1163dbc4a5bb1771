package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// DefaultSocketMode is the mode of a Unix socket file when HTTPConfig.SocketMode is zero: the
// owner and its group may connect.
const DefaultSocketMode fs.FileMode = 0o660

// staleProbeTimeout bounds the connect that tells a live socket from a stale one.
const staleProbeTimeout = time.Second

// listenUnix creates the Unix socket path with mode and listens on it. A stale socket file at
// path is removed first (removeStale); anything else there is an error, and is left alone.
// Closing the returned listener removes the file (net.UnixListener's default).
func listenUnix(ctx context.Context, path string, mode fs.FileMode) (net.Listener, error) {
	abstract := strings.HasPrefix(path, "@")
	if !abstract {
		if err := removeStale(path); err != nil {
			return nil, err
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	if !abstract {
		if mode == 0 {
			mode = DefaultSocketMode
		}
		if err := os.Chmod(path, mode.Perm()); err != nil {
			ln.Close()
			return nil, fmt.Errorf("set the socket's mode: %w", err)
		}
	}
	return ln, nil
}

// removeStale removes the file at path when it is a socket that nothing listens on: one left
// by a server that died. Nothing at path is fine. A file of another kind, a socket that
// accepts a connection (a running server), or a socket whose state cannot be told (no
// permission to connect, say) is an error, and the file stays.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode().Type() != fs.ModeSocket:
		return fmt.Errorf("%s exists and is not a socket (%s); not removing it", path, fileKind(fi))
	}
	c, err := net.DialTimeout("unix", path, staleProbeTimeout)
	switch {
	case err == nil:
		c.Close()
		return fmt.Errorf("%s is in use: another process accepts connections on it", path)
	case !errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot tell whether %s is in use, so it stays: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the stale socket: %w", err)
	}
	return nil
}

// fileKind names the type of fi for an error message.
func fileKind(fi fs.FileInfo) string {
	switch t := fi.Mode().Type(); {
	case t == 0:
		return "a regular file"
	case t&fs.ModeDir != 0:
		return "a directory"
	case t&fs.ModeSymlink != 0:
		return "a symbolic link"
	default:
		return "mode " + t.String()
	}
}
