package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countMessages returns how many times each message is stored.
func countMessages(s *server, q string, limit int) map[string]int {
	got := map[string]int{}
	for _, m := range messages(s.query(q, limit)) {
		got[m]++
	}
	return got
}

func TestSendAndCrashLosesNothingAcknowledged(t *testing.T) {
	s := startServer(t, "", "--query.max-limit", "1000000")

	// logcaster send reads its stdin, which the test writes in two halves:
	// one before the crash and one after, so the crash is mid-stream.
	const sendLines = 200_000
	send := exec.Command(binary, "send", "--server", s.tcp, "--index", "sent")
	stdin, err := send.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var sendOut syncBuffer
	send.Stdout, send.Stderr = &sendOut, &sendOut
	if err := send.Start(); err != nil {
		t.Fatal(err)
	}
	sendDone := make(chan error, 1)
	go func() { sendDone <- send.Wait() }()
	writeLines := func(from, to int) {
		var b bytes.Buffer
		for i := from; i < to; i++ {
			fmt.Fprintf(&b, "sendline-%06d shipped by logcaster send\n", i)
		}
		if _, err := stdin.Write(b.Bytes()); err != nil {
			t.Fatalf("write to logcaster send: %v", err)
		}
	}
	writeLines(0, sendLines/2)

	// HTTP senders, remembering which bodies were acknowledged.
	var acked sync.Map
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				var body bytes.Buffer
				for i := 0; i < 50; i++ {
					fmt.Fprintf(&body, "httpline-%d-%d-%d\n", w, n, i)
				}
				code, _, err := postQuiet(s.http, "crash", body.Bytes())
				if err != nil {
					time.Sleep(20 * time.Millisecond) // server down: retry the next body
					continue
				}
				if code == 200 {
					acked.Store(fmt.Sprintf("%d-%d", w, n), true)
				}
			}
		}(w)
	}
	time.Sleep(700 * time.Millisecond)
	if n := len(s.query("index:sent", 1_000_000)); n == 0 || n == sendLines {
		t.Fatalf("want the crash in the middle of the send, but %d lines are stored", n)
	}
	s.kill9()
	time.Sleep(300 * time.Millisecond)
	s.restart()
	writeLines(sendLines/2, sendLines)
	stdin.Close()
	time.Sleep(500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	select {
	case err := <-sendDone:
		if err != nil {
			t.Fatalf("logcaster send failed across the restart: %v\n%s", err, sendOut.String())
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("logcaster send did not finish\n%s", sendOut.String())
	}

	// Every acknowledged HTTP line once, no line twice.
	got := countMessages(s, "index:crash", 1_000_000)
	ackedBodies := 0
	acked.Range(func(k, _ any) bool {
		ackedBodies++
		var w, n int
		fmt.Sscanf(k.(string), "%d-%d", &w, &n)
		for i := 0; i < 50; i++ {
			if m := fmt.Sprintf("httpline-%d-%d-%d", w, n, i); got[m] != 1 {
				t.Errorf("acknowledged %s stored %d times", m, got[m])
			}
		}
		return true
	})
	for m, c := range got {
		if c != 1 {
			t.Errorf("%s stored %d times", m, c)
		}
	}
	if ackedBodies == 0 {
		t.Fatal("no HTTP body was acknowledged")
	}
	// Every line of the sent file exactly once.
	sent := countMessages(s, "index:sent", 1_000_000)
	if len(sent) != sendLines {
		t.Fatalf("send: %d distinct lines stored, want %d", len(sent), sendLines)
	}
	for m, c := range sent {
		if c != 1 || !strings.HasPrefix(m, "sendline-") {
			t.Fatalf("send: %q stored %d times", m, c)
		}
	}
	t.Logf("acknowledged HTTP bodies: %d; send output: %s", ackedBodies, tail(sendOut.String(), 300))
}

func TestRestartKeepsResultsAndRetentionDropsOldDays(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "--retention", "5d")
	now := time.Now().UTC()
	old := now.Add(-3 * 24 * time.Hour)
	var body bytes.Buffer
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&body, `{"timestamp":%q,"message":"old event %d","service":"billing"}`+"\n", old.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), i)
		fmt.Fprintf(&body, `{"timestamp":%q,"message":"new event %d","service":"billing"}`+"\n", now.Add(-time.Duration(i)*time.Second).Format(time.RFC3339Nano), i)
	}
	if code, out := s.ingest("r", body.Bytes(), ""); code != 200 || out["accepted"] != float64(200) {
		t.Fatalf("ingest: %d %v", code, out)
	}
	before := s.query("service:billing", 1000)
	if len(before) != 200 {
		t.Fatalf("before restart: %d rows", len(before))
	}
	s.stop()
	s.restart()
	after := s.query("service:billing", 1000)
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("results differ after restart:\nbefore %v\nafter  %v", before[:3], after[:3])
	}
	s.stop()

	// Restarted with a shorter retention, the old day goes, whole.
	s.args = append(s.args, "--retention", "2d")
	s.restart()
	deadline := time.Now().Add(20 * time.Second)
	for len(s.query("old", 1000)) != 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := len(s.query("old", 1000)); n != 0 {
		t.Fatalf("old events still there after retention: %d", n)
	}
	if n := len(s.query("new", 1000)); n != 100 {
		t.Fatalf("new events after retention: %d, want 100", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "partitions", old.Format("2006-01-02"))); !os.IsNotExist(err) {
		t.Fatalf("old partition folder still there: %v", err)
	}
}

func TestSendUnreachableServer(t *testing.T) {
	addr := freePort(t) // nothing listens here
	cmd := exec.Command(binary, "send", "--server", addr)
	cmd.Stdin = strings.NewReader("a line\n")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("send to %s succeeded: %s", addr, out)
	}
	if !strings.Contains(string(out), "cannot reach server at "+addr) {
		t.Fatalf("unclear message: %s", out)
	}
}

func TestSnapshotRestores(t *testing.T) {
	s := startServer(t, "")
	if code, out := s.ingest("snap", []byte("before the snapshot one\nbefore the snapshot two\n"), ""); code != 200 {
		t.Fatalf("ingest: %d %v", code, out)
	}
	out, err := exec.Command(binary, "snapshot", "--server", "http://"+s.http).CombinedOutput()
	if err != nil {
		t.Fatalf("logcaster snapshot: %v: %s", err, out)
	}
	path := strings.Fields(string(out))[1]
	if code, _ := s.ingest("snap", []byte("after the snapshot\n"), ""); code != 200 {
		t.Fatal("ingest after snapshot")
	}
	restored := startServer(t, path)
	if got := messages(restored.query("index:snap", 10)); len(got) != 2 {
		t.Fatalf("restored snapshot has %q", got)
	} else {
		hasAll(t, got, "before the snapshot one", "before the snapshot two")
	}
	if got := len(s.query("index:snap", 10)); got != 3 {
		t.Fatalf("live server has %d events", got)
	}
}
