package tlsdecrypt

import (
	"slices"
	"strings"
)

// addProblem records a problem in the connection's capture.TLSInfo once;
// repeated identical problems (one per direction, say) are said once.
func (c *tlsConn) addProblem(p string) {
	i := c.info
	if i.Problem == "" {
		i.Problem = p
		return
	}
	if slices.Contains(strings.Split(i.Problem, "; "), p) {
		return
	}
	i.Problem += "; " + p
}
