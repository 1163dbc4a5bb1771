// Package sdlisten takes over the listening sockets that systemd passes to a service started
// by socket activation (sd_listen_fds(3)): LISTEN_PID names the process they are for,
// LISTEN_FDS how many there are, from file descriptor 3 on, and LISTEN_FDNAMES their names.
// Any other program that starts a process this way (systemfd, s6, a test) works the same.
package sdlisten

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// The environment variables of socket activation.
const (
	PIDEnv   = "LISTEN_PID"
	FDsEnv   = "LISTEN_FDS"
	NamesEnv = "LISTEN_FDNAMES"
)

// firstFD is SD_LISTEN_FDS_START: the first passed descriptor.
const firstFD = 3

// maxFDs bounds LISTEN_FDS: far above any real unit, low enough to refuse nonsense.
const maxFDs = 64

// Listeners returns the sockets passed to this process, in order, as net.Listeners; the caller
// owns and closes them. With no LISTEN_FDS, or a LISTEN_PID that is not this process's (the
// variables were meant for a parent), it returns nil and no error. The variables are unset
// either way, so a child process does not take them for its own, and the passed descriptors
// are replaced by close-on-exec duplicates. A bad value, or a descriptor that is not a listening socket, is an
// error naming it; the sockets taken over before it are closed.
func Listeners() ([]net.Listener, error) {
	pid, fds, names := os.Getenv(PIDEnv), os.Getenv(FDsEnv), os.Getenv(NamesEnv)
	os.Unsetenv(PIDEnv)
	os.Unsetenv(FDsEnv)
	os.Unsetenv(NamesEnv)
	if fds == "" || pid != strconv.Itoa(os.Getpid()) {
		return nil, nil
	}
	n, err := strconv.Atoi(fds)
	if err != nil || n < 0 || n > maxFDs {
		return nil, fmt.Errorf("%s=%q: want a number of descriptors from 0 to %d", FDsEnv, fds, maxFDs)
	}
	nameList := strings.Split(names, ":")
	var lns []net.Listener
	for i := range n {
		fd := firstFD + i
		name := "LISTEN_FD_" + strconv.Itoa(fd)
		if i < len(nameList) && nameList[i] != "" {
			name = nameList[i]
		}
		f := os.NewFile(uintptr(fd), name)
		ln, err := net.FileListener(f) // a close-on-exec duplicate: the original is closed here
		f.Close()
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("%s: descriptor %d (%s) is not a listening socket: %w", FDsEnv, fd, name, err)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}
