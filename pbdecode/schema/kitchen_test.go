package schema

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/grpcsniff/grpcsniff/pbdecode"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"
)

const wash = "/kitchen.Kitchen/Wash"

func loadKitchen(t testing.TB) *Registry {
	t.Helper()
	r, err := Load(Options{ProtoFiles: []string{filepath.Join("testdata", "kitchen.proto")}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// kitchenBytes encodes a kitchen.Sink given in JSON.
func kitchenBytes(t testing.TB, r *Registry, js string) []byte {
	t.Helper()
	in, _, ok := r.Method(wash)
	if !ok {
		t.Fatal("no " + wash)
	}
	m := dynamicpb.NewMessage(in)
	if err := (protojson.UnmarshalOptions{Resolver: r.types}).Unmarshal([]byte(js), m); err != nil {
		t.Fatal(err)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestJSONForms checks the choices the JSON relies on: proto field names,
// 64-bit integers as strings, enums by name, the JSON forms of the
// well-known types, and Any expanded through the registry (here holding a
// type from google/rpc, which the user did not ship).
func TestJSONForms(t *testing.T) {
	r := loadKitchen(t)
	const js = `{"big":"-9007199254740993","ubig":"18446744073709551615","colour":"GREEN",` +
		`"items":[{"label":"a"},{"label":"b"}],"by_name":{"x":{"label":"y"}},` +
		`"at":"2026-11-21T07:06:31.564039Z","took":"1.500s","meta":{"k":[1,"two",null]},` +
		`"maybe":"","extra":{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"QUOTA","domain":"example.com","metadata":{"a":"b"}},` +
		`"status":{"code":5,"message":"gone"}}`
	d := r.Decode(wash, true, kitchenBytes(t, r, js))
	if d.Err != "" || d.Type != "kitchen.Sink" {
		t.Fatalf("%q %q", d.Type, d.Err)
	}
	if string(d.JSON) != js {
		t.Errorf("got  %s\nwant %s", d.JSON, js)
	}
}

func TestUnknownFields(t *testing.T) {
	r := loadKitchen(t)
	base := kitchenBytes(t, r, `{"items":[{"label":"a"},{"label":"b"}],"by_name":{"x":{"label":"y"}},"one":{"label":"o"}}`)
	// The same message as a newer peer would send it: unknown fields at
	// the top, in the second item, in the map value and in "one".
	inner := func(label string, extra ...byte) []byte {
		b := protowire.AppendTag(nil, 1, protowire.BytesType)
		b = protowire.AppendString(b, label)
		return append(b, extra...)
	}
	extra := protowire.AppendVarint(protowire.AppendTag(nil, 9, protowire.VarintType), 7)
	entry := protowire.AppendTag(nil, 1, protowire.BytesType)
	entry = protowire.AppendString(entry, "x")
	entry = protowire.AppendTag(entry, 2, protowire.BytesType)
	entry = protowire.AppendBytes(entry, inner("y", extra...))
	var b []byte
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	b = protowire.AppendBytes(b, inner("a"))
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	b = protowire.AppendBytes(b, inner("b", extra...))
	b = protowire.AppendTag(b, 5, protowire.BytesType)
	b = protowire.AppendBytes(b, entry)
	b = protowire.AppendTag(b, 12, protowire.BytesType)
	b = protowire.AppendBytes(b, inner("o", extra...))
	b = protowire.AppendTag(b, 99, protowire.BytesType)
	b = protowire.AppendString(b, "new")
	b = protowire.AppendTag(b, 99, protowire.BytesType) // repeated: listed once
	b = protowire.AppendString(b, "newer")

	d := r.Decode(wash, true, b)
	if d.Err != "" {
		t.Fatal(d.Err)
	}
	want := []string{"99", "items[1].9", `by_name["x"].9`, "one.9"}
	if !reflect.DeepEqual(d.Unknown, want) {
		t.Errorf("unknown %q, want %q", d.Unknown, want)
	}
	// The known fields read as they would without the unknown ones.
	if plain := r.Decode(wash, true, base); string(plain.JSON) != string(d.JSON) || plain.Unknown != nil {
		t.Errorf("with unknown fields %s, without %s (%q)", d.JSON, plain.JSON, plain.Unknown)
	}

	// A field the schema has, sent with another wire type, is unknown too
	// (protobuf parsers keep it aside rather than fail).
	wrong := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 3)
	if d := r.Decode("/helloworld.Greeter/SayHello", true, wrong); d.Type != "" {
		t.Errorf("kitchen registry knows helloworld: %+v", d)
	}
	seed := loadSeed(t)
	d = seed.Decode("/helloworld.Greeter/SayHello", true, wrong)
	if d.Err != "" || string(d.JSON) != "{}" || !reflect.DeepEqual(d.Unknown, []string{"1"}) {
		t.Errorf("wrong wire type: %+v", d)
	}
}

func TestSchemaError(t *testing.T) {
	r := loadSeed(t)
	for name, b := range map[string][]byte{
		"truncated":     {0x0a, 0x05, 'a'},
		"invalid utf-8": {0x0a, 0x02, 0xff, 0xfe},
		"bad tag":       {0x00},
	} {
		d := r.Decode("/helloworld.Greeter/SayHello", true, b)
		if d.Type != "helloworld.HelloRequest" || d.Err == "" || d.JSON != nil {
			t.Errorf("%s: %+v", name, d)
		}
		t.Logf("%s: %s", name, d.Err)
	}
}

func TestUnknownMethod(t *testing.T) {
	r := loadSeed(t)
	for _, m := range []string{"/helloworld.Greeter/Nope", "/nope.Svc/SayHello", "", "/", "helloworld.Greeter/SayHello",
		"/helloworld.Greeter", "/helloworld.HelloRequest/SayHello", "/helloworld.Greeter/SayHello/x"} {
		if _, _, ok := r.Method(m); ok {
			t.Errorf("Method(%q) ok", m)
		}
		if d := r.Decode(m, true, []byte{0x0a, 0x01, 'x'}); !reflect.DeepEqual(d, Decoded{}) {
			t.Errorf("Decode(%q) = %+v, want zero", m, d)
		}
	}
	if d := r.DecodeAny("type.googleapis.com/nope.Nope", nil); !reflect.DeepEqual(d, Decoded{}) {
		t.Errorf("DecodeAny of an unknown type = %+v", d)
	}
	if d := r.DecodeAny("type.googleapis.com/helloworld.Greeter", nil); !reflect.DeepEqual(d, Decoded{}) {
		t.Errorf("DecodeAny of a service = %+v", d)
	}
}

// TestMethodWithoutServices checks the shortcut of a registry that knows no
// service (the built-in files define none): every method is unknown, and
// loading a file with services makes them known.
func TestMethodWithoutServices(t *testing.T) {
	r := NewRegistry()
	if r.services {
		t.Fatal("the built-in files define a service")
	}
	if d := r.Decode("/helloworld.Greeter/SayHello", true, []byte{0x0a, 0x01, 'x'}); !reflect.DeepEqual(d, Decoded{}) {
		t.Errorf("Decode without services = %+v", d)
	}
	if r := loadSeed(t); !r.services {
		t.Error("services not noted after loading .proto files")
	} else if _, _, ok := r.Method("/helloworld.Greeter/SayHello"); !ok {
		t.Error("SayHello not found")
	}
}

// A message of more fields than the decoding limit, at any depth, is not
// built through the schema (a value per field): it is a schema_error, and
// the raw reading shows it. One field fewer is decoded.
func TestFieldLimit(t *testing.T) {
	r := loadKitchen(t)
	inner := kitchenBytes(t, r, `{"items":[{"label":"x"}]}`) // items (4) holding Inner{label}
	for _, tc := range []struct {
		name   string
		fields int // in all: each item and its label
		fail   bool
	}{
		{"at the limit", pbdecode.DefaultMaxFields, false},
		{"over it", pbdecode.DefaultMaxFields + 2, true},
	} {
		b := bytes.Repeat(inner, tc.fields/2)
		d := r.Decode(wash, true, b)
		if got := d.Err != ""; got != tc.fail || (tc.fail && !strings.Contains(d.Err, "more than 100000 fields")) {
			t.Errorf("%s (%d fields): err %q", tc.name, tc.fields, d.Err)
		}
	}
}
