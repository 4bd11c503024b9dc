// Package pgtest gives tests a real PostgreSQL server. It owns the test side
// of PostgreSQL: finding the server named by ILPKIT_TEST_POSTGRES (which
// `make test`, `.ci/run` and scripts/with-pg set up), starting a throwaway
// cluster for one test binary when nothing is set (so `go test ./backend/sql`
// works on a machine with PostgreSQL installed), and handing every test a
// fresh database of its own that is dropped when the test ends.
//
// When no server can be had, tests skip — except with CI=true, where a
// missing server is a failure.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable holding the DSN of a PostgreSQL
// server a test may create databases on (as a superuser or a role with
// CREATEDB), connected to its maintenance database.
const EnvDSN = "ILPKIT_TEST_POSTGRES"

// Run is meant for TestMain: when EnvDSN is not set it tries to start a
// throwaway cluster for this test binary (a unix socket in a temporary
// directory, fsync off, stopped and removed afterwards) and sets EnvDSN for the
// tests and for any child process they start; then it runs the tests and
// returns their exit code.
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
func Run(m *testing.M) int {
	if os.Getenv(EnvDSN) != "" {
		return m.Run()
	}
	c, err := startCluster(context.Background())
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: no PostgreSQL cluster: %v\n", err)
		return m.Run()
	}
	defer c.stop()
	if err := os.Setenv(EnvDSN, c.dsn); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		return 1
	}
	return m.Run()
}

// Required reports whether a missing server must fail the test (CI=true)
// rather than skip it.
func Required() bool { return os.Getenv("CI") == "true" }

// Server returns the DSN of the server's maintenance database, or skips the
// test (fails it when Required) when there is none.
func Server(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		if Required() {
			tb.Fatalf("pgtest: CI=true but %s is not set and no cluster could be started", EnvDSN)
		}
		tb.Skipf("pgtest: no PostgreSQL server (%s not set, no cluster could be started)", EnvDSN)
	}
	return dsn
}

// DSN creates an empty database for this test alone and returns its DSN. The
// database is dropped (with its connections) when the test ends.
func DSN(tb testing.TB) string {
	tb.Helper()
	base := Server(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("pgtest: connect to %s: %v", EnvDSN, err)
	}
	defer conn.Close(context.Background())
	name := dbName(tb.Name())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(base, name)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// dbName makes a database name from a test name: lower-case letters, digits
// and underscores, with a random suffix, within PostgreSQL's 63 bytes.
func dbName(test string) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 44 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	b.WriteByte('_')
	b.WriteString(hex.EncodeToString(rnd[:]))
	return b.String()
}

// withDatabase returns dsn with its database replaced by name. Both the URL
// form and the keyword=value form are understood.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", EnvDSN, err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	return dsn + " dbname=" + name, nil
}

// cluster is a server started by Run.
type cluster struct {
	dir   string
	bin   string
	owner *syscall.Credential // nil when the server runs as the current user
	dsn   string
}

// binDir finds the directory of initdb and pg_ctl: PG_BINDIR, the newest
// Debian /usr/lib/postgresql/*/bin, or PATH.
func binDir() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("initdb not found (install the postgresql package)")
}

func versionOf(bin string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(bin)), 64)
	return v
}

func startCluster(ctx context.Context) (*cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin}
	if os.Geteuid() == 0 {
		// The server refuses to run as root: run it as the postgres user.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root without a postgres user: %w", err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		c.owner = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	// A short path: the socket path must fit in 107 bytes.
	dir, err := os.MkdirTemp("", "ilpkit-pgt.")
	if err != nil {
		return nil, err
	}
	c.dir = dir
	sock := filepath.Join(dir, "sock")
	if err := os.Mkdir(sock, 0o700); err != nil {
		c.remove()
		return nil, err
	}
	if c.owner != nil {
		for _, p := range []string{dir, sock} {
			if err := os.Chown(p, int(c.owner.Uid), int(c.owner.Gid)); err != nil {
				c.remove()
				return nil, err
			}
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := c.run(ctx, "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		c.remove()
		return nil, fmt.Errorf("initdb: %w: %s", err, out)
	}
	// The same settings as scripts/pg-test-cluster with PG_FSYNC=off: socket
	// only, no TCP; no disk flushes (the data is thrown away).
	conf := strings.Join([]string{
		"",
		"# written by internal/pgtest",
		"listen_addresses = ''",
		"unix_socket_directories = '" + sock + "'",
		"port = 5432",
		"max_connections = 300",
		"fsync = off",
		"full_page_writes = off",
		"",
	}, "\n")
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		c.remove()
		return nil, fmt.Errorf("postgresql.conf: %w", err)
	}
	if out, err := c.run(ctx, "pg_ctl", "-D", data, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		c.remove()
		return nil, fmt.Errorf("pg_ctl start: %w: %s %s", err, out, log)
	}
	c.dsn = (&url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Path:     "/postgres",
		RawQuery: url.Values{"host": {sock}, "port": {"5432"}, "sslmode": {"disable"}}.Encode(),
	}).String()
	return c, nil
}

func (c *cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	if c.owner != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.owner}
	}
	return cmd.CombinedOutput()
}

func (c *cluster) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := c.run(ctx, "pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop"); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: pg_ctl stop: %v: %s\n", err, out)
	}
	c.remove()
}

func (c *cluster) remove() { _ = os.RemoveAll(c.dir) }
