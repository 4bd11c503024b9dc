package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkIdleMemory reports the resident memory of an idle "ilpkit
// serve" process (zero configuration, SQLite) a few seconds after start.
func BenchmarkIdleMemory(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		env := map[string]string{"ILPKIT_DATA_DIR": b.TempDir(), "LOG_LEVEL": "warn", "API_LEDGER_ADMIN_PASS": "admin-password"}
		p := startKitProcess(b, env)
		time.Sleep(3 * time.Second)
		status, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
		if err != nil {
			b.Fatal(err)
		}
		for _, line := range strings.Split(string(status), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
				b.ReportMetric(float64(kb)/1024, "rss-MB")
			}
		}
		p.kill()
	}
}
