// Package filter is grpcsniff's display-filter language: a small expression
// over the fields of a [grpcframe.Call], used by the terminal UI's "/" prompt
// and by the command line's -Y option, so that one syntax selects calls
// everywhere.
//
// # Syntax
//
// A filter is comparisons combined with and, or, not (also written &&, ||
// and !) and parentheses; not binds tighter than and, and than or. Keywords
// and field names are case-insensitive.
//
//	method ~ Greeter                      regexp, case-insensitive
//	method == "/helloworld.Greeter/SayHello"
//	method_inferred ~ Greeter             the method named for a call whose :path is unknown (an inference)
//	protocol == grpc-web                  grpc, grpc-web, grpc-web-text, connect, twirp, http (REST and other HTTP)
//	status != OK                          by name (NOT_FOUND, not_found) or number
//	status == none                        no grpc-status seen (reset, cut, …)
//	status == unrecovered                 trailers seen, status lost to HPACK
//	duration > 100ms                      Go duration literals
//	server == 10.0.0.5:50051              client/server; without a port, the address only
//	state == reset                        complete, reset, refused, closed, cut, evicted, …
//	messages > 3   requests >= 1   responses == 0
//	bytes > 1KB                           wire bytes both ways; K/KB/KiB = 1024, M, G likewise
//	stream == 3   conn == 1               HTTP/2 stream id, connection number
//	metadata[authorization]               header present (request, response or trailers)
//	metadata[x-user] == "bob"
//	req.1 == "you"   resp.1 ~ hello       decoded message fields (see below)
//	RouteChat   "x-request-id"            a search (see below)
//
// Operators are == (also =), !=, ~ (regexp match, case-insensitive), !~,
// <, <=, >, >=. Values are bare words (up to a space or ")") or quoted with
// "..." or '...' (Go escapes). A comparison whose operator does not fit its
// field (duration ~ x) is a parse error, so mistakes show while typing.
//
// A comparison is true when any value fits: metadata[k] == v when any value
// of k is v; req.1 == "you" when any request message has a field 1 that is
// "you". != and !~ are the negation of == and ~, so "status != OK" also
// selects calls without a status, and "metadata[k] != v" those without k.
//
// # Search
//
// A word that names no field, or quoted text, standing alone where a
// comparison would (RouteChat, "bearer abc", sayhello and status != OK)
// matches the calls whose method, or the name or value of any of whose
// headers, holds it, in any case.
//
// # Message fields
//
// req.PATH looks into the request messages and resp.PATH into the responses.
// Without a schema, PATH is field numbers separated by dots (req.2.1 is field
// 1 of the message in field 2), read by [pbdecode.Decode]: a string reading
// compares as text, a varint as a number (signed or unsigned, either may
// match), fixed32/64 as their integer or float readings, bytes as text. A bare
// path (req.3) tests that the field is present.
//
// Named paths (req.name, resp.feature.location) are parsed now and resolved
// through [Schema] when one is set with [ParseWith]: the schema maps the
// names to field numbers for the call's method, and the comparison then runs
// on the same raw decoding. When the Schema is a [PathChecker] that knows
// methods, a name no method's type has is a parse error naming the fields
// there (req.nmae: "fields there: name"). Without a schema (or one that
// knows no method yet) a named path matches nothing, and [Expr.Warnings]
// and [Expr.NeedsSchema] say so, so that a user interface can tell the user
// rather than show an empty list without a reason.
//
// # Summaries
//
// A view of millions of calls keeps a [Summary] of each rather than the
// call. [Expr.Summarizable] says whether a filter reads only what a
// summary holds (everything but metadata, message fields and searches),
// and [Expr.MatchSummary] then decides it on the summary, as Match would
// on the call.
//
// # Errors
//
// Parse errors are [*Error] values whose text starts with the 1-based column:
// `col 12: expected a value after "=="`.
package filter
