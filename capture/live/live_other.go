//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly && !windows

package live

import (
	"fmt"
	"runtime"

	"github.com/gopacket/gopacket/layers"

	"github.com/grpcsniff/grpcsniff/capture"
)

// permissionNeeded and permissionRemedy complete PermissionError, which
// this platform never returns.
const (
	permissionNeeded = "permission to capture packets"
	permissionRemedy = "run as an administrator"
)

// Source is a live capture; this platform has none, so Open always fails
// with ErrNotSupported.
type Source struct{}

// Open returns an error matching ErrNotSupported.
func Open(cfg Config) (*Source, error) {
	if _, err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("capturing on %s: %w (%s)", cfg.Interface, ErrNotSupported, runtime.GOOS)
}

// LinkTypeOf returns an error matching ErrNotSupported.
func LinkTypeOf(iface string) (layers.LinkType, error) {
	return 0, fmt.Errorf("capturing on %s: %w (%s)", iface, ErrNotSupported, runtime.GOOS)
}

// pseudoInterfaces returns none: there is no "any" here.
func pseudoInterfaces() []Interface { return nil }

// Interface returns "".
func (s *Source) Interface() string { return "" }

// CapturedInterfaces returns nil.
func (s *Source) CapturedInterfaces() []string { return nil }

// LinkType returns 0.
func (s *Source) LinkType() layers.LinkType { return 0 }

// Snaplen returns 0.
func (s *Source) Snaplen() int { return 0 }

// Warnings returns nil.
func (s *Source) Warnings() []string { return nil }

// Next returns ErrNotSupported.
func (s *Source) Next() (capture.Packet, error) { return capture.Packet{}, ErrNotSupported }

// Stats returns zeros.
func (s *Source) Stats() Stats { return Stats{} }

// Close does nothing.
func (s *Source) Close() error { return nil }

var _ capture.Source = (*Source)(nil)
