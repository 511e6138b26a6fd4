package compose

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAServiceMayNotAdvertiseAnAddressFromItsOwnHostName(t *testing.T) {
	refused := map[string][]string{
		"busybox and Debian -i":  {"/bin/sh", "-c", `exec weed server -ip="$(hostname -i | cut -d' ' -f1)"`},
		"Debian -I":              {"sh", "-c", "exec server --advertise $(hostname -I | awk '{print $1}')"},
		"long option":            {"sh", "-c", "exec server --advertise=$(hostname --ip-address)"},
		"the host name itself":   {"sh", "-c", "exec kafka --advertised-listeners=PLAINTEXT://$(hostname):9092"},
		"backticks":              {"sh", "-c", "exec server -ip=`hostname`"},
		"the HOSTNAME variable":  {"sh", "-c", "exec server --advertise ${HOSTNAME}:7000"},
		"bare HOSTNAME variable": {"sh", "-c", "exec server --advertise $HOSTNAME"},
	}
	for name, command := range refused {
		err := refuseSelfAddress(Service{Name: "zzstore", Command: command})
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "command derives an address from the container's own host name", name)
		assert.Contains(t, err.Error(), `advertise the service name "zzstore"`, name)
	}
	err := refuseSelfAddress(Service{Name: "zzstore", Entrypoint: []string{"sh", "-c", "exec server -ip=$(hostname -i)"}})
	require.ErrorContains(t, err, "entrypoint derives an address")

	for _, ok := range [][]string{
		{"sh", "-c", "exec weed server -dir=/data -ip.bind=0.0.0.0 -s3"},
		{"dagster-webserver", "-h", "0.0.0.0", "-p", "3000"},
		{"sh", "-c", "echo started on host $(uname -n) > /dev/null; exec server --hostname-check=off"},
		{"weed", "shell", "-master=seaweedfs:9333"},
	} {
		assert.NoError(t, refuseSelfAddress(Service{Name: "zzstore", Command: ok}), "%q", ok)
	}
}

// TestNoCommittedServiceAdvertisesItsOwnHostName keeps the stack every
// environment starts free of the fault that stopped the default stack
// under Dagger (SeaweedFS advertised `hostname -i`, 127.0.0.1 there).
func TestNoCommittedServiceAdvertisesItsOwnHostName(t *testing.T) {
	for _, env := range environments(t) {
		spec := translateEnv(t, dagsterDir, env)
		for _, s := range spec.Services {
			assert.NoError(t, refuseSelfAddress(s), "%s: %s", env, s.Name)
		}
	}
}
