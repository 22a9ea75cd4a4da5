// Package tui is grpcsniff's terminal user interface: a list of gRPC calls
// (not packets) that fills in while a capture is read, a detail screen with
// the call's metadata, its messages in wire order as field trees and the
// bytes of the selected message in hex, and per-method statistics.
//
// The UI only consumes [Update] values from a channel, so the same screens
// serve a file being loaded and a live capture: [Run] returns when the user
// quits or the context ends; the caller feeds the channel from its pipeline
// and closes it when the input is exhausted.
//
// Rendering is O(visible rows): the list keeps the calls as given plus an
// index slice of the ones the filter selects in the chosen order, and only
// the rows on screen are formatted, so 100,000 calls stay responsive.
package tui
