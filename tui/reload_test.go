package tui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/grpcsniff/grpcsniff/grpcframe"
)

// reloaderOf decodes the shipped capture name again at each call, as the
// command's Reloader does, counting the readings.
func reloaderOf(t *testing.T, name string, readings *int) Reloader {
	return func(_ context.Context, scope *Scope, want, found func(*grpcframe.Call) bool) error {
		*readings++
		for _, c := range loadCalls(t, name) {
			if scope != nil && (c.Client != scope.Client || c.Server != scope.Server) {
				continue
			}
			if want(c) && !found(c) {
				break
			}
		}
		return nil
	}
}

// budgeted returns a model of the capture that keeps no call in full.
func budgeted(t *testing.T, name string, readings *int) *Model {
	t.Helper()
	m, err := New(feed(loadCalls(t, name)), Options{Title: "x", Location: time.UTC, ExportDir: t.TempDir(),
		Reload: reloaderOf(t, name, readings), KeepBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	for cmd := m.Init(); cmd != nil; {
		_, cmd = m.Update(cmd())
	}
	return m
}

// drive runs cmd and what follows from it, as the program would, but only
// for the messages of reading the capture again and exporting.
func drive(m *Model, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			drive(m, c)
		}
	case reloadedMsg, filteredMsg, exportedMsg:
		_, next := m.Update(msg)
		drive(m, next)
	}
}

// A view that keeps no call in full shows the same list, statistics and
// connection waterfall as one that keeps them all, and reads a call again
// when it is opened: the same detail, from one reading, cached after.
func TestKeepBudgetSameScreens(t *testing.T) {
	const name = "grpcgo_interop.pcap"
	var readings int
	all, none := loaded(t, loadCalls(t, name), 120, 30, "x"), budgeted(t, name, &readings)
	if none.released != len(none.calls) || all.released != 0 {
		t.Fatalf("released %d of %d calls (keeping all: %d)", none.released, len(none.calls), all.released)
	}
	for _, keys := range [][]string{nil, {"S"}, {"esc", "j", "j", "c"}, {"esc", "s", "r"}} {
		press(all, keys...)
		press(none, keys...)
		if a, n := plain(all), plain(none); a != n {
			t.Fatalf("after %v the screens differ:\nall kept:\n%s\nnone kept:\n%s", keys, a, n)
		}
	}
	press(all, "esc", "j", "enter")
	drive(none, press(none, "esc", "j", "enter"))
	if readings != 1 || none.screen != screenDetail {
		t.Fatalf("%d readings, screen %v; status %q", readings, none.screen, none.status)
	}
	if a, n := plain(all), plain(none); a != n {
		t.Fatalf("the details differ:\nall kept:\n%s\nnone kept:\n%s", a, n)
	}
	press(none, "esc")
	drive(none, press(none, "enter"))
	if readings != 1 {
		t.Errorf("opening the same call again read the capture again")
	}
}

// A filter on metadata, which records do not hold, runs over the capture
// again on enter, and selects what it selects on the kept calls; the
// export of those calls reads them again.
func TestKeepBudgetFilterAndExport(t *testing.T) {
	const name = "grpcgo_interop.pcap"
	var readings int
	all, none := loaded(t, loadCalls(t, name), 120, 30, "x"), budgeted(t, name, &readings)
	for _, m := range []*Model{all, none} {
		press(m, "/")
		typeText(m, `metadata[grpc-accept-encoding] or "EmptyCall"`)
	}
	if readings != 0 {
		t.Errorf("typing the filter read the capture %d times", readings)
	}
	press(all, "enter")
	drive(none, press(none, "enter"))
	if readings != 1 || len(none.rows) == 0 || len(none.rows) == len(none.calls) {
		t.Fatalf("%d readings, %d of %d rows", readings, len(none.rows), len(none.calls))
	}
	if a, n := plain(all), plain(none); a != n {
		t.Fatalf("the filtered lists differ:\nall kept:\n%s\nnone kept:\n%s", a, n)
	}
	var files []string
	for _, m := range []*Model{all, none} {
		m.now = func() time.Time { return time.Date(2026, 12, 8, 1, 2, 3, 0, time.UTC) }
		press(m, "e")
		drive(m, press(m, "enter"))
		files = append(files, filepath.Join(m.opts.ExportDir, "grpcsniff-20261208-010203.ndjson"))
	}
	a, errA := os.ReadFile(files[0])
	n, errN := os.ReadFile(files[1])
	if errA != nil || errN != nil || len(a) == 0 || string(a) != string(n) {
		t.Errorf("the exports differ (%v, %v): %d and %d bytes", errA, errN, len(a), len(n))
	}
}

// The help screen says how many calls are kept in full.
func TestKeepBudgetInHelp(t *testing.T) {
	var readings int
	m := budgeted(t, "py_helloworld.pcap", &readings)
	m.opts.KeepBytes = 0 // the default
	press(m, "?")
	for range 80 {
		press(m, "j")
	}
	if s := plain(m); !strings.Contains(s, "in full: up to 64 MiB of calls") {
		t.Errorf("the help does not give the budget:\n%s", s)
	}
}
