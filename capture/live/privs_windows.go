package live

import "errors"

// DropPrivileges is tcpdump -Z, which Windows has no equivalent of: a
// process cannot give up an administrator's token for a named user's.
func DropPrivileges(name string) error {
	return errors.New("dropping privileges (-Z) is not supported on Windows: Npcap's driver, not the process, holds the capture privilege")
}
