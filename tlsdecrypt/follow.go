package tlsdecrypt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"
)

// maxKeyLogLine bounds a key log line held while waiting for its end (the
// longest real line is under 250 bytes).
const maxKeyLogLine = 1 << 20

// KeyLogFollower reads an NSS key log file as it is being written (tail -f)
// and adds each new entry to a KeyLog; see FollowKeyLog.
type KeyLogFollower struct {
	path string
	k    *KeyLog
	warn func(string)

	mu        sync.Mutex // one read at a time: the goroutine's, Poll's or Close's
	off       int64      // bytes of the file read
	partial   []byte     // the last line read, not yet ended by a newline
	skipLine  bool       // the partial line was too long: drop it up to its end
	line      int        // lines read
	fi        os.FileInfo
	saidGone  bool // the file did not exist: said once
	lastError string

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// FollowKeyLog reads the key log file at path into k and then, every
// interval (0 means 200ms), reads what was appended to it since, in a
// goroutine of its own, until Close. Only whole lines (ended by a newline)
// are read; a file that shrinks or is replaced (truncated, rotated) is read
// again from its start. A file that does not exist yet is fine (the program
// whose key log it is may not have started): warn is told once, and the file
// is read when it appears. Lines that cannot be used, and errors reading the
// file, are told to warn (which may be nil), each error once in a row.
//
// The first read is done before FollowKeyLog returns, so the keys already
// logged are in k at once. k is marked as growing (KeyLog.SetGrowing): the
// connections decoded with it wait for their keys. k may be used by one other goroutine meanwhile
// (the decoder: KeyLog is safe for that).
func FollowKeyLog(path string, k *KeyLog, interval time.Duration, warn func(string)) *KeyLogFollower {
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	if warn == nil {
		warn = func(string) {}
	}
	f := &KeyLogFollower{path: path, k: k, warn: warn, stop: make(chan struct{}), done: make(chan struct{})}
	k.SetGrowing()
	f.Poll()
	go func() {
		defer close(f.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-f.stop:
				return
			case <-tick.C:
				f.Poll()
			}
		}
	}()
	return f
}

// Close stops following, after a last read, and waits for the goroutine to
// end. It may be called more than once.
func (f *KeyLogFollower) Close() {
	f.closeOnce.Do(func() {
		close(f.stop)
		<-f.done
		f.Poll()
	})
}

// Poll reads what was appended to the file since the last read now, rather
// than at the next interval, and returns how many entries it added.
func (f *KeyLogFollower) Poll() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	before := f.k.Gen()
	if err := f.read(); err != nil {
		if msg := err.Error(); msg != f.lastError {
			f.lastError = msg
			f.warn(msg)
		}
	} else {
		f.lastError = ""
	}
	return int(f.k.Gen() - before)
}

func (f *KeyLogFollower) read() error {
	// A named pipe would block the open until a writer came, and could
	// not be read again from its start: only regular files are followed.
	if fi, err := os.Stat(f.path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file: a key log to follow must be one", f.path)
	}
	file, err := os.Open(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		if !f.saidGone && f.fi == nil {
			f.saidGone = true
			f.warn(fmt.Sprintf("%s does not exist yet: waiting for it to be written", f.path))
		}
		return nil
	}
	if err != nil {
		return err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return err
	}
	if f.fi != nil && (!os.SameFile(f.fi, fi) || fi.Size() < f.off) {
		// Replaced or truncated: a new key log.
		f.off, f.partial, f.skipLine, f.line = 0, nil, false, 0
	}
	f.fi = fi
	if fi.Size() == f.off {
		return nil
	}
	if _, err := file.Seek(f.off, io.SeekStart); err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := file.Read(buf)
		f.off += int64(n)
		f.lines(buf[:n])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f.path, err)
		}
	}
}

// lines adds the whole lines in the partial line and b, and keeps the rest.
func (f *KeyLogFollower) lines(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if !f.skipLine {
				f.partial = append(f.partial, b...)
			}
			if len(f.partial) > maxKeyLogLine {
				f.partial, f.skipLine = nil, true
			}
			return
		}
		line := b[:i]
		if len(f.partial)+len(line) > maxKeyLogLine {
			f.partial, f.skipLine = f.partial[:0], true
		}
		if len(f.partial) > 0 {
			line = append(f.partial, line...)
			f.partial = f.partial[:0]
		}
		b = b[i+1:]
		f.line++
		if f.skipLine {
			f.skipLine = false
			f.warn(fmt.Sprintf("%s: line %d: longer than %d bytes", f.path, f.line, maxKeyLogLine))
			continue
		}
		if err := f.k.addLine(string(line)); err != nil {
			f.warn(fmt.Sprintf("%s: line %d: %v", f.path, f.line, err))
		}
	}
}
