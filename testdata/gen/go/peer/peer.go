// Package peer holds what the test peers of testdata/gen share: serving
// HTTP until a signal, the -mode switch of a server/client command, and the
// truth file a client writes one JSON line per call to.
package peer

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

// Serve runs srv until SIGINT or SIGTERM, then closes it.
func Serve(srv *http.Server) {
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		<-sig
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// Run calls server or client as mode says, and exits on a client error or
// an unknown mode.
func Run(mode string, server func(), client func() error) {
	log.SetFlags(log.Lmicroseconds)
	switch mode {
	case "server":
		server()
	case "client":
		if err := client(); err != nil {
			log.Fatal(err)
		}
	default:
		log.Printf("unknown -mode %q: give -mode=server or -mode=client", mode)
		os.Exit(2)
	}
}

// Truth opens the truth file path, or standard output when path is empty;
// call the returned function to close it.
func Truth(path string) (io.Writer, func(), error) {
	if path == "" {
		return os.Stdout, func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("create truth file: %w", err)
	}
	return f, func() { _ = f.Close() }, nil
}
