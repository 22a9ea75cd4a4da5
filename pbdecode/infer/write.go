package infer

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/grpcsniff/grpcsniff/pbdecode"
	"google.golang.org/protobuf/encoding/protowire"
)

// Files renders one proto3 file per protobuf package seen: the file name
// ("<package>.proto", "default.proto" for methods without a package) maps to
// its text. The output is the same for the same observations.
func (s *Schema) Files() map[string]string {
	out := map[string]string{}
	for pkg, svcs := range s.packages() {
		file := pkg + ".proto"
		if pkg == "" {
			file = "default.proto"
		}
		out[file] = s.file(pkg, svcs)
	}
	return out
}

// service is a gRPC service seen in the capture.
type service struct {
	name    string
	methods []string // paths
}

// packages groups the methods seen by protobuf package ("" for none) and
// service name; methods whose path is not a gRPC method's are left out.
func (s *Schema) packages() map[string]map[string]*service {
	pkgs := map[string]map[string]*service{}
	for path := range s.methods {
		full, _, ok := pbdecode.SplitMethodPath(path)
		if !ok {
			continue
		}
		pkg, svcName := "", full
		if i := strings.LastIndexByte(full, '.'); i >= 0 {
			pkg, svcName = full[:i], full[i+1:]
		}
		if pkgs[pkg] == nil {
			pkgs[pkg] = map[string]*service{}
		}
		sv := pkgs[pkg][svcName]
		if sv == nil {
			sv = &service{name: svcName}
			pkgs[pkg][svcName] = sv
		}
		sv.methods = append(sv.methods, path)
	}
	return pkgs
}

// file renders the proto3 file of package pkg, whose services are svcs:
// the services with their methods, then the request and response message
// types of every method.
func (s *Schema) file(pkg string, svcs map[string]*service) string {
	var w writer
	w.line(0, `// Inferred by grpcsniff from captured messages, not from the service's own`)
	w.line(0, `// .proto: names are made up (field_N), and each type is the reading that fits`)
	w.line(0, `// every message seen. Comments give the evidence where it was thin.`)
	w.line(0, `syntax = "proto3";`)
	if pkg != "" {
		w.line(0, "")
		w.line(0, "package "+pkg+";")
	}
	names := slices.Sorted(maps.Keys(svcs))
	// Message names must be unique in the package; method names are
	// unless two services share one.
	seenMethod := map[string]int{}
	for _, sn := range names {
		for _, p := range svcs[sn].methods {
			_, mn, _ := pbdecode.SplitMethodPath(p)
			seenMethod[mn]++
		}
	}
	var msgs []string
	for _, sn := range names {
		sv := svcs[sn]
		sort.Strings(sv.methods)
		w.line(0, "")
		w.line(0, "service "+sn+" {")
		for _, p := range sv.methods {
			m := s.methods[p]
			_, mn, _ := pbdecode.SplitMethodPath(p)
			base := mn
			if seenMethod[mn] > 1 {
				base = sn + mn
			}
			reqName, respName := base+"Request", base+"Response"
			w.rpc(mn, reqName, respName, m)
			var mw writer
			mw.message(0, reqName, m.req)
			mw.line(0, "")
			mw.message(0, respName, m.resp)
			msgs = append(msgs, mw.String())
		}
		w.line(0, "}")
	}
	for _, m := range msgs {
		w.line(0, "")
		w.b.WriteString(m)
	}
	return w.String()
}

// rpc writes the rpc line of method name, whose message types are reqName
// and respName, with comments on the calls seen; a side is streaming when
// one call carried more than one message that way.
func (w *writer) rpc(name, reqName, respName string, m *method) {
	w.line(1, fmt.Sprintf("// %d call(s) seen; at most %d request(s) and %d response(s) in one call.", m.calls, m.maxReqs, m.maxResps))
	if m.maxReqs <= 1 || m.maxResps <= 1 {
		w.line(1, "// A streaming side that sent one message looks unary: the kind is a guess from the counts.")
	}
	cs, ss := "", ""
	if m.maxReqs > 1 {
		cs = "stream "
	}
	if m.maxResps > 1 {
		ss = "stream "
	}
	w.line(1, fmt.Sprintf("rpc %s(%s%s) returns (%s%s);", name, cs, reqName, ss, respName))
}

type writer struct{ b strings.Builder }

func (w *writer) line(indent int, s string) {
	if s != "" {
		w.b.WriteString(strings.Repeat("  ", indent))
	}
	w.b.WriteString(s)
	w.b.WriteByte('\n')
}

func (w *writer) String() string { return w.b.String() }

// message writes one message type; nested message fields become nested
// types named after their field.
func (w *writer) message(indent int, name string, o *msgObs) {
	w.line(indent, fmt.Sprintf("// %d message(s) seen.", o.seen))
	w.line(indent, "message "+name+" {")
	nums := append([]int32(nil), o.order...)
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	for _, n := range nums {
		fo := o.fields[n]
		typ, sub, notes := fo.choose()
		if fo.inMessages < o.seen {
			notes = append(notes, fmt.Sprintf("in %d of %d messages", fo.inMessages, o.seen))
		}
		label := ""
		if fo.repeated && !strings.HasPrefix(typ, "repeated ") {
			label = "repeated "
		}
		fname := "field_" + strconv.Itoa(int(n))
		if sub != nil {
			typ = "Field" + strconv.Itoa(int(n))
			w.message(indent+1, typ, sub)
		}
		for _, c := range notes {
			w.line(indent+1, "// "+c)
		}
		w.line(indent+1, fmt.Sprintf("%s%s %s = %d;", label, typ, fname, n))
	}
	w.line(indent, "}")
}

// choose picks a field's type: the reading every observation fits. sub is
// set for a nested message; notes hold the evidence worth showing.
func (fo *fieldObs) choose() (typ string, sub *msgObs, notes []string) {
	wire, others := fo.mainWire()
	if len(fo.wire) > 1 {
		notes = append(notes, fmt.Sprintf("seen with %d wire types; the %d value(s) of the others will show as unknown fields", len(fo.wire), others))
	}
	switch wire {
	case protowire.VarintType:
		return "int64", nil, append(notes, fo.varintNote())
	case protowire.Fixed32Type:
		if fo.notFloat && fo.smallNegative {
			return "sfixed32", nil, append(notes, "not all values read as floats; small negative values seen")
		}
		if fo.notFloat {
			return "fixed32", nil, append(notes, "not all values read as floats")
		}
		return "float", nil, notes
	case protowire.Fixed64Type:
		if fo.notDouble && fo.smallNegative {
			return "sfixed64", nil, append(notes, "not all values read as doubles; small negative values seen")
		}
		if fo.notDouble {
			return "fixed64", nil, append(notes, "not all values read as doubles")
		}
		return "double", nil, notes
	case protowire.StartGroupType:
		return "bytes", nil, append(notes, "a proto2 group: not expressible in proto3; left as unknown fields")
	}
	return fo.chooseLen(notes)
}

// mainWire returns the field's wire type, the one seen most often, and how
// many values were seen with the others.
func (fo *fieldObs) mainWire() (wire protowire.Type, others int) {
	// The most frequent wire type wins; the order breaks ties.
	order := []protowire.Type{protowire.VarintType, protowire.Fixed32Type, protowire.Fixed64Type, protowire.BytesType, protowire.StartGroupType}
	wire, total := order[0], 0
	for _, t := range order {
		total += fo.wire[t]
		if fo.wire[t] > fo.wire[wire] {
			wire = t
		}
	}
	return wire, total - fo.wire[wire]
}

// varintNote says which integer types the varint values seen suggest.
func (fo *fieldObs) varintNote() string {
	switch {
	case fo.negative:
		return "negative values seen: int64 (or int32)"
	case fo.varMin == fo.varMax:
		return fmt.Sprintf("always %d: int64, or a bool, an enum, another integer type", fo.varMin)
	case fo.varMax <= 1:
		return "only 0 and 1 seen: perhaps a bool or an enum"
	}
	return fmt.Sprintf("values %d..%d: int64, or uint64/int32/an enum; sint64 if they are zigzag-encoded", fo.varMin, fo.varMax)
}

// chooseLen is choose for a length-delimited field, after the notes made
// so far: the reading the raw decoding chose most often, among those every
// value fits.
func (fo *fieldObs) chooseLen(notes []string) (string, *msgObs, []string) {
	half := fo.nonEmpty / 2
	isMsg := fo.allMessage && fo.sub != nil
	switch {
	case fo.nonEmpty == 0:
		return "string", nil, append(notes, "always empty: a string, bytes or a message")
	case isMsg && fo.msgAsRead > half:
		return fo.asMessage(notes)
	case fo.allUTF8 && fo.strAsRead > half:
		return fo.asString(notes)
	case isMsg && fo.msgAsRead > 0:
		return fo.asMessage(notes)
	case fo.allUTF8 && fo.strAsRead > 0:
		return fo.asString(notes)
	case fo.allPacked && fo.packAsRead > half && !fo.repeated:
		return "repeated int64", nil, append(notes, "packed varints in every message; could be bytes")
	case !fo.notLen8 && fo.fixedAsRead[1].payloads > half && !fo.repeated:
		return "repeated " + fo.fixedAsRead[1].typeName(8), nil, append(notes, "packed 8-byte values in most messages; could be bytes")
	case !fo.notLen4 && fo.fixedAsRead[0].payloads > half && !fo.repeated:
		return "repeated " + fo.fixedAsRead[0].typeName(4), nil, append(notes, "packed 4-byte values in most messages; could be bytes")
	}
	return "bytes", nil, notes
}

// asMessage is chooseLen's choice of a nested message, noting how many
// values also read as text.
func (fo *fieldObs) asMessage(notes []string) (string, *msgObs, []string) {
	if fo.strAsRead > 0 {
		notes = append(notes, fmt.Sprintf("%d of %d values also read as text", fo.strAsRead, fo.nonEmpty))
	}
	return "", fo.sub, notes
}

// asString is chooseLen's choice of a string, noting how many values also
// read as a message and a few examples.
func (fo *fieldObs) asString(notes []string) (string, *msgObs, []string) {
	if fo.msgAsRead > 0 {
		notes = append(notes, fmt.Sprintf("%d of %d values also read as a message", fo.msgAsRead, fo.nonEmpty))
	}
	if len(fo.examples) > 0 {
		notes = append(notes, "e.g. "+quoteAll(fo.examples))
	}
	return "string", nil, notes
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}
