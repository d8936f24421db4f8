package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSettingsPrecedence checks the four sources of a setting: the
// default, the config file, the environment and the command line, each
// winning over the one before.
func TestSettingsPrecedence(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "logcaster.yaml")
	if err := os.WriteFile(cfg, []byte("http: \":7001\"\ntcp: \":7002\"\nretention: 14d\ntcp.max-line: 1MiB\nsyslog: \":7003\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LOGCASTER_TCP", ":7102")
	t.Setenv("LOGCASTER_TCP_MAX_LINE", "512KiB")
	t.Setenv("LOGCASTER_SYSLOG", ":7103")
	fs, c := newServeFlags()
	if err := loadSettings(fs, []string{"--config", cfg, "--syslog", ""}); err != nil {
		t.Fatal(err)
	}
	for _, check := range []struct {
		name      string
		got, want any
	}{
		{"http from the file", c.srv.HTTPAddr, ":7001"},
		{"tcp from the env over the file", c.tcp.Addr, ":7102"},
		{"syslog from the flag over the env (empty turns it off)", c.sysl.Addr, ""},
		{"retention in days from the file", c.store.Retention, 14 * 24 * time.Hour},
		{"size with a unit from the env", c.tcp.MaxLineBytes, 512 << 10},
		{"default kept", c.store.Dir, "data"},
	} {
		if check.got != check.want {
			t.Errorf("%s: got %v, want %v", check.name, check.got, check.want)
		}
	}
}

func TestConfigFileRejectsUnknownKeys(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(cfg, []byte("htp: \":1\"\n"), 0o644)
	fs, _ := newServeFlags()
	if err := loadSettings(fs, []string{"--config=" + cfg}); err == nil {
		t.Fatal("unknown key accepted")
	}
	t.Setenv("LOGCASTER_RETENTION", "forever")
	fs, _ = newServeFlags()
	if err := loadSettings(fs, nil); err == nil {
		t.Fatal("bad env value accepted")
	}
}

func TestParseSizeAndDuration(t *testing.T) {
	for in, want := range map[string]int{"262144": 262144, "256KiB": 256 << 10, "64MiB": 64 << 20, "1GiB": 1 << 30, "2K": 2048, "3 MB": 3 << 20} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "12XB", "MiB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
	if d, err := parseDuration("1.5d"); err != nil || d != 36*time.Hour {
		t.Errorf("parseDuration(1.5d) = %v, %v", d, err)
	}
}
