package hosttest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// InstallPostgres says how to get the binaries PostgresBin looks for.
const InstallPostgres = "install Debian's postgresql package (apt-get install -y postgresql; `make test` does it on CI)"

// PostgresBin is the bin directory of the newest Postgres installed from
// Debian's packages (/usr/lib/postgresql/<version>/bin), "" when none is.
func PostgresBin() string {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	sort.Slice(found, func(i, j int) bool { return version(found[i]) < version(found[j]) })
	if len(found) == 0 {
		return ""
	}
	return filepath.Dir(found[len(found)-1])
}

func version(postgres string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(postgres))))
	return v
}

// Postgres is a throwaway server on 127.0.0.1 with trust authentication.
type Postgres struct {
	// Bin is the directory of the server and client programs.
	Bin  string
	Host string
	Port int
	// User is the superuser the cluster was created with.
	User string
	proc *Process
}

// StartPostgres initialises a cluster whose superuser is superuser in a
// temporary directory and serves it on a free port of 127.0.0.1 until the
// test ends. As root the server runs as the postgres (or nobody) account:
// Postgres refuses to run as root.
func StartPostgres(t testing.TB, superuser string) *Postgres {
	t.Helper()
	bin := PostgresBin()
	Need(t, bin != "", "Postgres", InstallPostgres)
	dir, err := os.MkdirTemp("", "hosttest-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cred := serverAccount(t, dir)

	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", superuser,
		"--auth=trust", "--encoding=UTF8", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	pg := &Postgres{Bin: bin, Host: "127.0.0.1", Port: FreePort(t), User: superuser}
	server := exec.Command(filepath.Join(bin, "postgres"), "-D", filepath.Join(dir, "data"),
		"-h", pg.Host, "-p", strconv.Itoa(pg.Port), "-k", dir, "-c", "fsync=off")
	server.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	// SIGINT is Postgres's fast shutdown: it does not wait for clients.
	pg.proc = Start(t, "postgres", server, syscall.SIGINT)

	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := pg.SQL(t.Context(), "postgres", "SELECT 1")
		if err == nil {
			return pg
		}
		if exited, why := pg.proc.Exited(); exited || time.Now().After(deadline) {
			t.Fatalf("postgres on %s:%d did not accept connections (exited: %v %v): %v\n%s", pg.Host, pg.Port, exited, why, err, pg.proc.Tail(20))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// serverAccount is who runs the server: this process unless it is root,
// then an unprivileged account that is given dir.
func serverAccount(t testing.TB, dir string) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	Need(t, false, "an unprivileged account to run Postgres as (running as root)", "create the postgres or nobody user")
	return nil
}

// SQL runs statements with psql against database db, stopping at the
// first error.
func (pg *Postgres) SQL(ctx context.Context, db, statements string) (string, error) {
	return pg.psql(ctx, db, "-c", statements)
}

// SQLFile runs a script with psql against database db, stopping at the
// first error, as the postgres image runs /docker-entrypoint-initdb.d.
func (pg *Postgres) SQLFile(ctx context.Context, db, path string) (string, error) {
	return pg.psql(ctx, db, "-f", path)
}

func (pg *Postgres) psql(ctx context.Context, db string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	all := append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pg.Host, "-p", strconv.Itoa(pg.Port), "-U", pg.User, "-d", db}, args...)
	out, err := exec.CommandContext(ctx, filepath.Join(pg.Bin, "psql"), all...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("psql %v: %w\n%s", args, err, out)
	}
	return string(out), nil
}
