package pbdecode

import "strings"

// SplitMethodPath splits a gRPC :path, "/pkg.Service/Method", into the
// service's full name and the method's. ok is false unless every part is a
// protobuf identifier.
func SplitMethodPath(path string) (service, method string, ok bool) {
	p, ok := strings.CutPrefix(path, "/")
	if !ok {
		return "", "", false
	}
	service, method, ok = strings.Cut(p, "/")
	if !ok || !isIdent(method) {
		return "", "", false
	}
	// strings.Cut rather than strings.Split: this runs for every message
	// the export decodes with a schema, and Split allocates.
	for rest, more := service, true; more; {
		var part string
		part, rest, more = strings.Cut(rest, ".")
		if !isIdent(part) {
			return "", "", false
		}
	}
	return service, method, true
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}
