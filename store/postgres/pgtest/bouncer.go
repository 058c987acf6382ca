package pgtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	osexec "os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Bouncer is a PgBouncer process in transaction pooling mode in front of the
// test server, started by StartBouncer.
type Bouncer struct {
	Port int    // its loopback port
	Dir  string // its config, log and pid files
	cmd  *osexec.Cmd
	base *url.URL // the test server's URL
}

// StartBouncer starts Debian's pgbouncer (apt-get install pgbouncer) on a
// free loopback port, in transaction pooling mode with auth_type trust, in
// front of the server named by EnvURL, and stops it when t ends. It skips t
// when EnvURL is unset or the binary is missing.
func StartBouncer(t testing.TB) *Bouncer {
	t.Helper()
	base, err := url.Parse(URL(t))
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	bin, err := osexec.LookPath("pgbouncer")
	if err != nil {
		for _, p := range []string{"/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		t.Skip("PgBouncer tests skipped: no pgbouncer binary (apt-get install -y pgbouncer)")
	}
	dir, err := os.MkdirTemp("", "quotad-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	port := freePort(t)
	host, pgPort := base.Hostname(), base.Port()
	if pgPort == "" {
		pgPort = "5432"
	}
	db := base.Path[1:]
	userName := base.User.Username()
	conf := fmt.Sprintf(`[databases]
%s = host=%s port=%s dbname=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = %s
pidfile = %s
`, db, host, pgPort, db, port, filepath.Join(dir, "users.txt"), filepath.Join(dir, "pgbouncer.log"), filepath.Join(dir, "pgbouncer.pid"))
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("pgbouncer.ini", conf)
	write("users.txt", fmt.Sprintf("%q \"\"\n", userName))
	args := []string{filepath.Join(dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 { // pgbouncer refuses to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			u, err = user.Lookup("nobody")
		}
		if err != nil {
			t.Skip("PgBouncer tests skipped: running as root and no unprivileged user to run pgbouncer as")
		}
		args = append([]string{"-u", u.Username}, args...)
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	b := &Bouncer{Port: port, Dir: dir, base: base}
	b.cmd = osexec.Command(bin, args...)
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start pgbouncer: %v", err)
	}
	t.Cleanup(b.stop)
	b.waitReady(t)
	return b
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitReady waits until a query through the bouncer answers.
func (b *Bouncer) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, b.URL())
		if err == nil {
			_, err = conn.Exec(ctx, "SELECT 1", pgx.QueryExecModeSimpleProtocol)
			conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(b.Dir, "pgbouncer.log"))
			t.Fatalf("pgbouncer did not answer on port %d: %v\n%s", b.Port, err, log)
		}
		time.Sleep(50 * time.Millisecond) // polling a process we started; nothing to wait on
	}
}

// URL returns the bouncer's URL: the test server's with the bouncer's port,
// without quotad's pooler parameter.
func (b *Bouncer) URL() string {
	u := *b.base
	u.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(b.Port))
	return u.String()
}

// Schema creates a fresh schema (as Schema does, on the server directly)
// and returns a DSN that reaches it through the bouncer with
// pooler=transaction and search_path set.
func (b *Bouncer) Schema(t testing.TB) string {
	t.Helper()
	direct := Schema(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pooler", "transaction")
	u.RawQuery = q.Encode()
	u.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(b.Port))
	return u.String()
}

// Kill stops the bouncer at once (SIGKILL), as a crashed pooler would.
func (b *Bouncer) Kill() {
	if b.cmd.Process != nil {
		_ = b.cmd.Process.Kill()
		_ = b.cmd.Wait()
	}
}

func (b *Bouncer) stop() {
	if b.cmd.ProcessState == nil && b.cmd.Process != nil {
		_ = b.cmd.Process.Kill()
		_ = b.cmd.Wait()
	}
}

// Direct returns dsn (one of Bouncer.Schema's) pointed at the test server
// itself instead of the bouncer, without the pooler parameter: the way psql
// reaches the database.
func Direct(t testing.TB, dsn string) string {
	t.Helper()
	base, err := url.Parse(URL(t))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("pooler")
	u.RawQuery = q.Encode()
	u.Host = base.Host
	return u.String()
}

// HoldLock takes LOCK TABLE table IN ACCESS EXCLUSIVE MODE in a transaction
// on its own connection to dsn and holds it until the returned function is
// called (or t ends).
func HoldLock(t testing.TB, dsn, table string) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE "+table+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			_ = tx.Rollback(ctx)
			_ = conn.Close(ctx)
		}
	}
	t.Cleanup(release)
	return release
}
