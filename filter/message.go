package filter

import (
	"math"
	"strconv"

	"github.com/grpcsniff/grpcsniff/grpcframe"
	"github.com/grpcsniff/grpcsniff/pbdecode"
	"google.golang.org/protobuf/encoding/protowire"
)

// msgValue is the value of a message-field comparison, read every way it
// could be meant: the raw decoding does not know a field's type, so "1"
// must match the string "1", the varint 1 and the float 1.0 alike.
type msgValue struct {
	s      string
	num    bool // f holds a number
	f      float64
	isInt  bool // i holds an exact integer
	i      int64
	isUint bool
	u      uint64
}

func parseMsgValue(v string) msgValue {
	mv := msgValue{s: v}
	switch v {
	case "true":
		mv.num, mv.f, mv.isInt, mv.i = true, 1, true, 1
	case "false":
		mv.num, mv.isInt = true, true
	}
	if i, err := strconv.ParseInt(v, 0, 64); err == nil {
		mv.num, mv.f, mv.isInt, mv.i = true, float64(i), true, i
	}
	if u, err := strconv.ParseUint(v, 0, 64); err == nil {
		mv.num, mv.isUint, mv.u = true, true, u
		if !mv.isInt {
			mv.f = float64(u)
		}
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && !mv.num {
		mv.num, mv.f = true, f
	}
	return mv
}

func (c *cmp) message(call *grpcframe.Call, e *Expr) bool {
	nums := c.nums
	if nums == nil {
		if e.schema == nil {
			return false
		}
		var ok bool
		if nums, ok = e.schema.FieldNumbers(call.Method, c.resp, c.path); !ok || len(nums) == 0 {
			return false
		}
	}
	msgs := call.Requests
	if c.resp {
		msgs = call.Responses
	}
	found := false
	for _, m := range msgs {
		if found = c.walk(pbdecode.Decode(m.Data, pbdecode.Options{MaxDepth: depthFor(nums)}).Fields, nums); found {
			break
		}
	}
	if c.op == "!=" || c.op == "!~" {
		return !found
	}
	return found
}

// walk reports whether a field at path nums satisfies the positive form of
// the comparison (== for !=, ~ for !~).
func (c *cmp) walk(fs []pbdecode.Field, nums []int32) bool {
	for i := range fs {
		f := &fs[i]
		if f.Number != nums[0] {
			continue
		}
		if len(nums) == 1 {
			if c.test(f) {
				return true
			}
		} else if f.Sub != nil && c.walk(f.Sub.Fields, nums[1:]) {
			return true
		}
	}
	return false
}

func (c *cmp) test(f *pbdecode.Field) bool {
	switch c.op {
	case "exists":
		return true
	case "~", "!~":
		for _, s := range fieldTexts(f) {
			if c.re.MatchString(s) {
				return true
			}
		}
		return false
	case "==", "!=":
		if f.Wire == protowire.BytesType && f.As != pbdecode.ReadingMessage && string(f.Bytes) == c.val.s {
			return true
		}
	}
	if !c.val.num {
		return false
	}
	for _, n := range fieldNumbers(f) {
		if c.cmpNumber(n) {
			return true
		}
	}
	return false
}

// number is one numeric reading of a field.
type number struct {
	f     float64
	exact bool // i or u is exact
	neg   bool // i is negative
	i     int64
	u     uint64
}

func (c *cmp) cmpNumber(n number) bool {
	v := c.val
	if c.op == "==" || c.op == "!=" {
		if n.exact && (v.isInt && !n.neg && v.i >= 0 && uint64(v.i) == n.u || v.isInt && n.neg && v.i == n.i || v.isUint && !n.neg && v.u == n.u) {
			return true
		}
		return !n.exact && n.f == v.f
	}
	switch c.op {
	case "<":
		return n.f < v.f
	case "<=":
		return n.f <= v.f
	case ">":
		return n.f > v.f
	case ">=":
		return n.f >= v.f
	}
	return false
}

func intNumber(u uint64, signed int64) []number {
	ns := []number{{f: float64(u), exact: true, u: u}}
	if signed < 0 {
		ns = append(ns, number{f: float64(signed), exact: true, neg: true, i: signed})
	}
	return ns
}

func fieldNumbers(f *pbdecode.Field) []number {
	switch f.Wire {
	case protowire.VarintType:
		return intNumber(f.Varint, int64(f.Varint))
	case protowire.Fixed32Type:
		return append(intNumber(f.Fixed, int64(int32(uint32(f.Fixed)))), number{f: float64(math.Float32frombits(uint32(f.Fixed)))})
	case protowire.Fixed64Type:
		return append(intNumber(f.Fixed, int64(f.Fixed)), number{f: math.Float64frombits(f.Fixed)})
	}
	var ns []number
	for _, p := range f.Packed {
		switch f.As {
		case pbdecode.ReadingPacked:
			ns = append(ns, intNumber(p, int64(p))...)
		case pbdecode.ReadingPackedFixed32:
			if f.PackedInts {
				ns = append(ns, intNumber(p, int64(int32(uint32(p))))...)
				continue
			}
			ns = append(ns, number{f: float64(math.Float32frombits(uint32(p)))})
		case pbdecode.ReadingPackedFixed64:
			if f.PackedInts {
				ns = append(ns, intNumber(p, int64(p))...)
				continue
			}
			ns = append(ns, number{f: math.Float64frombits(p)})
		}
	}
	return ns
}

func fieldTexts(f *pbdecode.Field) []string {
	if f.Wire == protowire.BytesType {
		if f.As == pbdecode.ReadingMessage {
			return nil
		}
		return []string{string(f.Bytes)}
	}
	var ss []string
	for _, n := range fieldNumbers(f) {
		switch {
		case n.neg:
			ss = append(ss, strconv.FormatInt(n.i, 10))
		case n.exact:
			ss = append(ss, strconv.FormatUint(n.u, 10))
		default:
			ss = append(ss, strconv.FormatFloat(n.f, 'g', -1, 64))
		}
	}
	return ss
}

// depthFor bounds decoding to the depth a path reaches, and one more level
// so that the last field's reading (message or not) is the same as in a
// full decoding: filtering 100,000 calls must not pay for whole trees.
func depthFor(nums []int32) int { return len(nums) }
