package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/grpcsniff/grpcsniff/pbdecode/schema"
	"github.com/grpcsniff/grpcsniff/sniff"
)

// load builds the registry from the schema flags. Reflection problems are
// reported and skipped: the capture is still decoded, raw where no schema
// covers it.
func (f *schemaFlags) load(stderr io.Writer) (*schema.Registry, error) {
	reg, err := schema.Load(schema.Options{ProtoFiles: f.protos, ImportPaths: f.imports, Protosets: f.protosets})
	if errors.Is(err, schema.ErrProtoSource) {
		err = fmt.Errorf("%w; give it with --proto", err)
	}
	if err != nil {
		return nil, err
	}
	for _, addr := range f.reflectAddrs {
		if err := reg.AddFromServer(context.Background(), addr, f.plaintext, f.insecure, sniff.ReflectTimeout); err != nil {
			warnTo(stderr)(err)
		}
	}
	return reg, nil
}

// warnTo writes the decoder's warnings, a line each, prefixed with the
// program's name, with the flags that help where there are some.
func warnTo(w io.Writer) func(error) {
	return func(err error) {
		msg := err.Error()
		if errors.Is(err, schema.ErrNoReflection) {
			msg += "; give the schemas with --proto or --protoset"
		}
		for _, l := range strings.Split(msg, "\n") {
			fmt.Fprintf(w, "%s: %s\n", progName, l)
		}
	}
}
