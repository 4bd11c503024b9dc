package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

// TestDSN checks that each test gets its own empty database on a server that
// is really there, and that the database is dropped afterwards.
func TestDSN(t *testing.T) {
	var name string
	t.Run("inner", func(t *testing.T) {
		dsn := DSN(t)
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("fresh database %s has %d tables", name, n)
		}
	})
	if name == "" {
		t.Skip("no server")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, Server(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("database %s still exists after its test", name)
	}
}

func TestDBName(t *testing.T) {
	a, b := dbName("TestX/sub test"), dbName("TestX/sub test")
	if a == b {
		t.Fatalf("two databases for one test share the name %s", a)
	}
	long := dbName(string(make([]byte, 200)))
	if len(long) > 63 {
		t.Fatalf("name %q is longer than 63 bytes", long)
	}
	for _, r := range a {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')) {
			t.Fatalf("name %q has %q", a, r)
		}
	}
}

func TestWithDatabase(t *testing.T) {
	got, err := withDatabase("postgres://postgres@/postgres?host=/tmp/x/sock&port=5432", "t_1")
	if err != nil {
		t.Fatal(err)
	}
	if want := "postgres://postgres@/t_1?host=/tmp/x/sock&port=5432"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if got, _ := withDatabase("host=/tmp user=postgres", "t_2"); got != "host=/tmp user=postgres dbname=t_2" {
		t.Fatalf("got %s", got)
	}
}
