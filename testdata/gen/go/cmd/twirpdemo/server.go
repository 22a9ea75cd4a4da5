package main

import (
	"context"
	"errors"
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/twitchtv/twirp"

	notespb "github.com/grpcsniff/grpcsniff/testdata/gen/go/pb/notes"
	"github.com/grpcsniff/grpcsniff/testdata/gen/go/peer"
)

// notes is the Notes service: an in-memory list of notes.
type notes struct {
	mu    sync.Mutex
	notes []*notespb.Note
}

func (s *notes) AddNote(_ context.Context, req *notespb.AddNoteRequest) (*notespb.Note, error) {
	if req.GetText() == "" {
		return nil, twirp.InvalidArgumentError("text", "must not be empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := &notespb.Note{Id: int64(len(s.notes) + 1), Text: req.GetText(), Tags: req.GetTags()}
	s.notes = append(s.notes, n)
	return n, nil
}

func (s *notes) GetNote(_ context.Context, req *notespb.GetNoteRequest) (*notespb.Note, error) {
	if req.GetId() < 0 {
		// not a twirp.Error: the server answers it as internal
		return nil, errors.New("negative ids break the store")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.GetId() == 0 || req.GetId() > int64(len(s.notes)) {
		return nil, twirp.NotFoundError("no note with this id").WithMeta("id", "unknown")
	}
	return s.notes[req.GetId()-1], nil
}

func serve(addr string) {
	svc := &notes{}
	twirpPrefix := notespb.NewNotesServer(svc)
	rpcPrefix := notespb.NewNotesServer(svc, twirp.WithServerPathPrefix("/rpc"))
	mux := http.NewServeMux()
	mux.Handle(twirpPrefix.PathPrefix(), twirpPrefix)
	mux.Handle(rpcPrefix.PathPrefix(), rpcPrefix)
	// Every other path (bad routes too) goes to the /twirp server, which
	// answers them with a bad_route error.
	mux.Handle("/", twirpPrefix)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("twirp notes.v1.Notes on %s (prefixes /twirp and /rpc)", addr)
	peer.Serve(srv)
}
