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
// Rendering is O(visible rows): the list keeps a fixed-size record of each
// call (numbers, with its strings and addresses interned) plus an index
// slice of the ones the filter selects in the chosen order, and only the
// rows on screen are formatted. Sorting and most filters read the records
// alone, so a million calls stay responsive. With [Options.Reload] (a
// capture file) the full calls are kept only up to [Options.KeepBytes] and
// read from the file again when opened, copied or exported; a filter on
// headers or messages then runs over the file again.
//
// With a schema registry ([Options.Registry]) messages are shown with their
// type and JSON, and the field tree names each field next to its number;
// the tree still follows the wire decoding, so offsets and fields the
// schema does not know stay visible. Memory is bounded by
// [Options.MaxCalls] (oldest calls dropped, and counted in the title) and
// [Options.MaxMessageBytes] (a message's bytes beyond it are not kept).
// The UI never holds packets: "w" reads the capture file again
// ([Options.CapturePath]) to write the packets of chosen connections.
package tui
