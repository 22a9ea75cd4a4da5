package schema

import (
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestStatusDetails decodes the details of a grpc-status-details-bin
// google.rpc.Status with no schema given: google/rpc is built in.
func TestStatusDetails(t *testing.T) {
	info, _ := anypb.New(&errdetails.ErrorInfo{Reason: "RATE_LIMITED", Domain: "example.com", Metadata: map[string]string{"zone": "b", "limit": "10"}})
	bad, _ := anypb.New(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
		{Field: "name", Description: "must not be empty"},
	}})
	retry, _ := anypb.New(&errdetails.RetryInfo{RetryDelay: durationpb.New(1500e6)})
	st, _ := proto.Marshal(&rpcstatus.Status{Code: 3, Message: "bad", Details: []*anypb.Any{info, bad, retry}})

	r := NewRegistry()
	for _, tc := range []struct {
		a    *anypb.Any
		typ  string
		want string
	}{
		{info, "google.rpc.ErrorInfo", `{"reason":"RATE_LIMITED","domain":"example.com","metadata":{"limit":"10","zone":"b"}}`},
		{bad, "google.rpc.BadRequest", `{"field_violations":[{"field":"name","description":"must not be empty"}]}`},
		{retry, "google.rpc.RetryInfo", `{"retry_delay":"1.500s"}`},
	} {
		d := r.DecodeAny(tc.a.TypeUrl, tc.a.Value)
		if d.Type != tc.typ || string(d.JSON) != tc.want || d.Err != "" {
			t.Errorf("%s: got %s %s %q, want %s", tc.a.TypeUrl, d.Type, d.JSON, d.Err, tc.want)
		}
	}
	// The whole Status, its Any details expanded through the registry.
	d := r.DecodeAny("type.googleapis.com/google.rpc.Status", st)
	want := `{"code":3,"message":"bad","details":[` +
		`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMITED","domain":"example.com","metadata":{"limit":"10","zone":"b"}},` +
		`{"@type":"type.googleapis.com/google.rpc.BadRequest","field_violations":[{"field":"name","description":"must not be empty"}]},` +
		`{"@type":"type.googleapis.com/google.rpc.RetryInfo","retry_delay":"1.500s"}]}`
	if string(d.JSON) != want {
		t.Errorf("got  %s\nwant %s", d.JSON, want)
	}

	// An Any whose type nobody knows is shown by its type alone, and its
	// value is listed as unknown; the rest of the message still reads.
	unknown := &anypb.Any{TypeUrl: "type.googleapis.com/acme.Secret", Value: []byte{0x08, 0x01}}
	// A known type with a field the schema lacks (99).
	newer := &anypb.Any{TypeUrl: info.TypeUrl, Value: append(append([]byte(nil), info.Value...), 0x98, 0x06, 0x01)}
	st, _ = proto.Marshal(&rpcstatus.Status{Code: 3, Details: []*anypb.Any{unknown, newer}})
	d = r.DecodeAny("google.rpc.Status", st)
	want = `{"code":3,"details":[{"@type":"type.googleapis.com/acme.Secret"},` +
		`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMITED","domain":"example.com","metadata":{"limit":"10","zone":"b"}}]}`
	if d.Type != "google.rpc.Status" || d.Err != "" || string(d.JSON) != want ||
		strings.Join(d.Unknown, " ") != "details[0].value details[1].99" {
		t.Errorf("got %s %q %v\nwant %s", d.JSON, d.Err, d.Unknown, want)
	}
}
