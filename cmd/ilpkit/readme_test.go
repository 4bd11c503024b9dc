package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quickStart returns the commands of the README's first sh block, without
// their comments.
func quickStart(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "```sh\n")
	if start < 0 {
		t.Fatal("README has no sh block")
	}
	s = s[start+len("```sh\n"):]
	s = s[:strings.Index(s, "```")]
	var cmds []string
	for _, line := range strings.Split(s, "\n") {
		if c, _, _ := strings.Cut(line, "#"); strings.TrimSpace(c) != "" {
			cmds = append(cmds, strings.TrimSpace(c))
		}
	}
	return cmds
}

// TestReadmeQuickStart runs the README's first command verbatim in a fresh
// clone of the repository: the kit starts with no settings (only the port
// is moved, so that the test does not depend on 3010 being free), prints
// the admin password, and two users, invited by the admin, register and
// one pays the other.
func TestReadmeQuickStart(t *testing.T) {
	if testing.Short() {
		t.Skip("clones the repository and builds the kit")
	}
	cmds := quickStart(t)
	if len(cmds) < 2 || cmds[0] != "make run" || cmds[1] != "make test" {
		t.Fatalf("the README starts with %q, not make run and make test", cmds)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".git")); err != nil {
		t.Skip("not in a git checkout")
	}
	dir := filepath.Join(t.TempDir(), "ilpkit")
	if out, err := exec.Command("git", "clone", "-q", root, dir).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v %s", err, out)
	}
	port := freePort(t)
	cmd := exec.Command("sh", "-c", cmds[0])
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "API_PORT="+strconv.Itoa(port), "LOG_LEVEL=warn")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	pwLine := regexp.MustCompile(`with the password (\S+) `)
	pw := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := pwLine.FindStringSubmatch(sc.Text()); m != nil {
				pw <- m[1]
			}
		}
	}()
	var adminPass string
	select {
	case adminPass = <-pw:
	case <-time.After(3 * time.Minute):
		t.Fatal("the kit printed no admin password")
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(base + "/health")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the kit does not answer")
		}
		time.Sleep(100 * time.Millisecond)
	}
	admin := login(t, base, "admin", adminPass)
	for _, u := range []struct{ name, amount string }{{"alice", "5000"}, {"bob", "0"}} {
		var inv struct{ Code string }
		if code := admin.call("POST", "/api/invites", map[string]string{"amount": u.amount}, &inv); code != 201 {
			t.Fatalf("invite: %d", code)
		}
		body := map[string]string{"password": u.name + "-password", "inviteCode": inv.Code}
		if code := newAPIClient(t, base).call("POST", "/api/users/"+u.name, body, nil); code != 201 {
			t.Fatalf("register %s: %d", u.name, code)
		}
	}
	alice, bob := login(t, base, "alice", "alice-password"), login(t, base, "bob", "bob-password")
	var q struct{ ID string }
	if code := alice.call("POST", "/api/payments/quote", map[string]string{"destination": "bob", "sourceAmount": "1200"}, &q); code != 200 {
		t.Fatalf("quote: %d", code)
	}
	var p struct{ State string }
	if code := alice.call("PUT", "/api/payments/readme-1", map[string]string{"quoteId": q.ID, "sourceAmount": "1200", "destinationAmount": "1200"}, &p); code != 200 || p.State != "success" {
		t.Fatalf("pay: %d %+v", code, p)
	}
	if a, b := alice.balance().String(), bob.balance().String(); a != "3800" || b != "1200" {
		t.Errorf("alice %s, bob %s", a, b)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "ilpkit.db")); err != nil {
		t.Errorf("the kit's database is not in ./data: %v", err)
	}
}
