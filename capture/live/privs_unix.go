//go:build unix

package live

import (
	"fmt"
	"os/user"
	"strconv"
	"syscall"
)

// DropPrivileges switches the process to the named user, as tcpdump -Z
// does, so that only opening the packet socket runs with root's powers and
// the parsing of untrusted packets does not. Call it after Open: the open
// socket and its ring keep working, but no new one can be opened.
//
// It sets the user's supplementary groups, then its group, then its user
// id, in that order because changing the groups needs privileges the last
// step gives up. Since Go 1.16 these calls apply to every thread of the
// process. Changing the user id of root away from 0 also clears the
// process's capabilities.
func DropPrivileges(name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("dropping privileges: %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return fmt.Errorf("dropping privileges to %s: user id %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return fmt.Errorf("dropping privileges to %s: group id %q: %w", name, u.Gid, err)
	}
	groups := []int{gid}
	if ids, err := u.GroupIds(); err == nil {
		groups = groups[:0]
		for _, s := range ids {
			if g, err := strconv.Atoi(s); err == nil {
				groups = append(groups, g)
			}
		}
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("dropping privileges to %s: setgroups: %w", name, err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("dropping privileges to %s: setgid(%d): %w", name, gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("dropping privileges to %s: setuid(%d): %w", name, uid, err)
	}
	return nil
}
