package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/twitchtv/twirp"

	notespb "github.com/grpcsniff/grpcsniff/testdata/gen/go/pb/notes"
)

// twirpCases are the calls of twirp.pcap, in order, all on one keep-alive
// HTTP/1.1 connection.
func twirpCases() []callCase {
	return []callCase{
		{"add_proto", func(ctx context.Context, c calls) error {
			_, err := c.proto.AddNote(ctx, &notespb.AddNoteRequest{Text: "buy milk", Tags: []string{"home"}})
			return err
		}},
		{"add_json", func(ctx context.Context, c calls) error {
			_, err := c.json.AddNote(ctx, &notespb.AddNoteRequest{Text: "call Zoë ☎", Tags: []string{"phone", "today"}})
			return err
		}},
		{"get_proto", func(ctx context.Context, c calls) error {
			_, err := c.proto.GetNote(ctx, &notespb.GetNoteRequest{Id: 2})
			return err
		}},
		{"get_json_not_found", func(ctx context.Context, c calls) error {
			_, err := c.json.GetNote(ctx, &notespb.GetNoteRequest{Id: 42})
			return err
		}},
		{"add_proto_invalid_argument", func(ctx context.Context, c calls) error {
			_, err := c.proto.AddNote(ctx, &notespb.AddNoteRequest{})
			return err
		}},
		{"get_proto_internal", func(ctx context.Context, c calls) error {
			_, err := c.proto.GetNote(ctx, &notespb.GetNoteRequest{Id: -1})
			return err
		}},
		{"get_json_empty_request", func(ctx context.Context, c calls) error {
			_, err := c.json.GetNote(ctx, &notespb.GetNoteRequest{})
			return err
		}},
		{"rpc_prefix_add_json", func(ctx context.Context, c calls) error {
			_, err := c.rpcPrefix.AddNote(ctx, &notespb.AddNoteRequest{Text: "under /rpc"})
			return err
		}},
		{"bad_route_unknown_method", func(ctx context.Context, c calls) error {
			return raw(ctx, c, http.MethodPost, "/twirp/notes.v1.Notes/DeleteNote", "application/protobuf", []byte{0x08, 0x01})
		}},
		{"bad_route_get", func(ctx context.Context, c calls) error {
			return raw(ctx, c, http.MethodGet, "/twirp/notes.v1.Notes/GetNote", "", nil)
		}},
		{"malformed_json", func(ctx context.Context, c calls) error {
			return raw(ctx, c, http.MethodPost, "/twirp/notes.v1.Notes/GetNote", "application/json", []byte(`{"id":`))
		}},
	}
}

// raw sends a request no generated client would, and turns a Twirp error
// answer into a twirp.Error.
func raw(ctx context.Context, c calls, method, path, contentType string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode == http.StatusOK {
		return nil
	}
	return decodeTwirpError(b, res.StatusCode)
}

// decodeTwirpError reads a Twirp error body: {"code", "msg", "meta"}.
func decodeTwirpError(body []byte, status int) error {
	var e struct {
		Code string            `json:"code"`
		Msg  string            `json:"msg"`
		Meta map[string]string `json:"meta"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Code == "" {
		return fmt.Errorf("HTTP %d without a Twirp error body: %q", status, body)
	}
	terr := twirp.NewError(twirp.ErrorCode(e.Code), e.Msg)
	for k, v := range e.Meta {
		terr = terr.WithMeta(k, v)
	}
	return terr
}
