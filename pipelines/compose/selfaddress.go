package compose

import (
	"fmt"
	"regexp"
	"strings"
)

// selfAddress matches shell that derives an address from the container's
// own host name: `hostname -i`/`-I`, `$(hostname)`, `$HOSTNAME`, or a
// lookup of either.
var selfAddress = regexp.MustCompile("hostname\\s+(-[a-zA-Z]*[iI]\\b|--ip-address|--all-ip-addresses)|\\$\\(\\s*hostname\\s*\\)|`\\s*hostname\\s*`|\\$\\{?HOSTNAME\\b")

// refuseSelfAddress refuses a service whose entrypoint or command works out
// an address from its own host name. Under docker compose that name
// resolves to the container's network address, but a Dagger service's
// /etc/hosts maps its host name to 127.0.0.1, and other containers reach
// it by the binding's name, never by its own. A server that advertises
// such an address (SeaweedFS's -ip, a broker's advertised listener) tells
// its clients to connect to themselves.
func refuseSelfAddress(s Service) error {
	for _, part := range []struct {
		key  string
		args []string
	}{{"entrypoint", s.Entrypoint}, {"command", s.Command}} {
		text := strings.Join(part.args, " ")
		if m := selfAddress.FindString(text); m != "" {
			return fmt.Errorf("%s derives an address from the container's own host name (%q): under Dagger that name resolves to 127.0.0.1 and other services reach this one only by its service name, so an address advertised from it is unreachable; let the server detect its network interface's address, or advertise the service name %q", part.key, m, s.Name)
		}
	}
	return nil
}
