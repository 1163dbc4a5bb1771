package certs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFiles writes a certificate and its key, as made by [CA.Issue], to
// certFile (mode 0644) and keyFile (mode 0600), replacing files of those names.
//
// Each file is written to a temporary file in its own directory, synced, and
// renamed into place, so a reader sees the old file or the new one, never a
// part. On any error no new file is left behind: temporary files are removed,
// and so is a key file this call created when the certificate could not be
// put in place.
//
// An empty certFile or keyFile skips that file (both empty is an error). When
// both name the same file, it receives the certificate then the key, with mode
// 0600. The directories must exist.
func WriteFiles(certFile string, certPEM []byte, keyFile string, keyPEM []byte) error {
	type output struct {
		name string
		data []byte
		perm fs.FileMode
	}
	var outs []output
	switch {
	case certFile == "" && keyFile == "":
		return errors.New("certs: write: no file name given")
	case certFile == keyFile:
		data := append(append([]byte(nil), certPEM...), keyPEM...)
		outs = append(outs, output{certFile, data, 0o600})
	default:
		// The key first: a certificate without its key is the worse half.
		if keyFile != "" {
			outs = append(outs, output{keyFile, keyPEM, 0o600})
		}
		if certFile != "" {
			outs = append(outs, output{certFile, certPEM, 0o644})
		}
	}

	tmps := make([]string, len(outs))
	defer func() {
		for _, t := range tmps {
			if t != "" {
				os.Remove(t)
			}
		}
	}()
	for i, o := range outs {
		t, err := writeTemp(o.name, o.data, o.perm)
		if err != nil {
			return fmt.Errorf("certs: write %s: %w", o.name, unwrapPath(err))
		}
		tmps[i] = t
	}

	var created []string // final names that did not exist before this call
	for i, o := range outs {
		_, statErr := os.Lstat(o.name)
		if err := os.Rename(tmps[i], o.name); err != nil {
			for _, c := range created {
				os.Remove(c)
			}
			return fmt.Errorf("certs: write %s: %w", o.name, unwrapPath(err))
		}
		tmps[i] = ""
		if errors.Is(statErr, fs.ErrNotExist) {
			created = append(created, o.name)
		}
		syncDir(filepath.Dir(o.name))
	}
	return nil
}

// writeTemp writes data to a new temporary file beside name, with mode perm,
// syncs it and returns its name.
func writeTemp(name string, data []byte, perm fs.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return "", err
	}
	if err := fillFile(f, data, perm); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// fillFile sets f's mode to exactly perm, writes data, syncs and closes f. On any error
// it removes the file, so nothing partial is left behind.
func fillFile(f *os.File, data []byte, perm fs.FileMode) error {
	err := f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// unwrapPath drops the *fs.PathError or *os.LinkError around err: the caller
// names the file, and a temporary file's name would only confuse.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
