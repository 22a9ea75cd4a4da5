package main

import (
	"fmt"
	"net"
	"time"
)

// linkState is what the capture can see of its interface: up or not
// (administratively), and whether it has a carrier.
type linkState uint8

const (
	linkUnknown   linkState = iota // not read yet, or the name is not an interface (any)
	linkUp                         // up and running
	linkNoCarrier                  // up, but no carrier (a cable out, a veth's peer down)
	linkDown                       // set down
	linkGone                       // no interface of that name any more
)

// readLink reads the state of the interface called name.
func readLink(name string) linkState {
	ifi, err := net.InterfaceByName(name)
	switch {
	case err != nil:
		return linkGone
	case ifi.Flags&net.FlagUp == 0:
		return linkDown
	case ifi.Flags&net.FlagRunning == 0:
		return linkNoCarrier
	}
	return linkUp
}

func (s linkState) String() string {
	switch s {
	case linkNoCarrier:
		return "lost its carrier"
	case linkDown:
		return "went down"
	case linkGone:
		return "disappeared"
	}
	return "is up"
}

// linkPoll is how often the interface's state is read: a down interface
// is said within a second.
const linkPoll = time.Second

// watchLink says on stderr (in.warn) when the interface goes down, loses
// its carrier or disappears, and when it is back: nothing is captured in
// between, and an engineer reading the output must know the silence is
// not the network's. The capture itself goes on (the kernel delivers
// again once the interface is back). The returned function stops the
// watch.
func (in *liveInput) watchLink() func() {
	if in.iface == "any" || readLink(in.iface) == linkGone {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(linkPoll)
		defer t.Stop()
		last, since := linkUp, time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				st := readLink(in.iface)
				if st == last {
					continue
				}
				in.warn(linkChange(in.iface, last, st, now.Sub(since)))
				last, since = st, now
			}
		}
	}()
	return func() { close(done) }
}

// linkChange says what changed: the new state, and for how long the
// interface had been in the old one when it comes back.
func linkChange(iface string, from, to linkState, after time.Duration) string {
	if to == linkUp {
		return fmt.Sprintf("interface %s is up again after %v (it %s): capturing; packets of that time were not seen", iface, after.Round(time.Second), from)
	}
	return fmt.Sprintf("interface %s %s: nothing is captured until it is back", iface, to)
}
