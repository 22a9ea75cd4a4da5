package otlp

import (
	"slices"
	"strings"

	"github.com/grpcsniff/grpcsniff/export"
	"github.com/grpcsniff/grpcsniff/h2decode"
	"go.opentelemetry.io/otel/attribute"
)

// metadataKey is a request header recorded as an attribute.
type metadataKey struct {
	name string
	key  attribute.Key // rpc.request.metadata.<name>
}

// metadataKeys are the names asked for, lowercased and once each, less
// the redacted ones.
func metadataKeys(names, redacted []string) []metadataKey {
	hidden := map[string]bool{}
	for _, n := range redacted {
		hidden[strings.ToLower(strings.TrimSpace(n))] = true
	}
	var keys []metadataKey
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" || hidden[n] || slices.ContainsFunc(keys, func(k metadataKey) bool { return k.name == n }) {
			continue
		}
		keys = append(keys, metadataKey{name: n, key: attribute.Key("rpc.request.metadata." + n)})
	}
	return keys
}

// appendMetadata adds the values of the headers asked for, each as a list
// of strings as the conventions have it. A value the capture lost, or one
// masked by redaction, is left out.
func (e *Exporter) appendMetadata(a []attribute.KeyValue, hs []h2decode.HeaderField) []attribute.KeyValue {
	for _, k := range e.meta {
		var values []string
		for _, f := range hs {
			if !f.NameUnknown && !f.ValueUnknown && f.Name == k.name && f.Value != export.RedactedValue {
				values = append(values, f.Value)
			}
		}
		if len(values) > 0 {
			a = append(a, k.key.StringSlice(values))
		}
	}
	return a
}
