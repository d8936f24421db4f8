package syslog

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/pipeline"
)

// Tests with the syslog senders people run: util-linux logger, rsyslog
// and Python's logging.handlers.SysLogHandler, over real sockets.

const korean = "결제 실패: 카드 한도 초과"

// need fails the test when a sender is not installed (the repo's test
// script installs them).
func need(t *testing.T, bin, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		t.Fatalf("%s not found: install it with apt-get install -y %s", bin, pkg)
	}
	return p
}

// shortHost is the host name logger and rsyslog put in messages.
func shortHost(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitN(h, ".", 2)[0]
}

// findMessage returns the event with message msg.
func findMessage(t *testing.T, ev []event.Event, msg string) event.Event {
	t.Helper()
	for _, e := range ev {
		if e.Message == msg {
			return e
		}
	}
	t.Fatalf("no event with message %q in %q", msg, messages(ev))
	return event.Event{}
}

func field(e event.Event, name string) string {
	v, _ := e.Get(name)
	return v
}

// checkTime checks that t lies in [from, to], widened by a second for
// senders that write whole seconds.
func checkTime(t *testing.T, what string, ns int64, from, to time.Time) {
	t.Helper()
	if ns < from.Add(-time.Second).UnixNano() || ns > to.Add(time.Second).UnixNano() {
		t.Errorf("%s: time %s not within [%s, %s]", what, time.Unix(0, ns).UTC(), from.UTC(), to.UTC())
	}
}

func TestLogger(t *testing.T) {
	logger := need(t, "logger", "bsdutils")
	s := startTest(t, pipeline.DefaultOptions(), &recorder{}, nil)
	port := fmt.Sprint(s.TCPAddr().(*net.TCPAddr).Port)
	type run struct {
		name string
		args []string
		rfc  string
	}
	var runs []run
	for _, transport := range []string{"--tcp", "--udp"} {
		for _, rfc := range []string{"--rfc5424", "--rfc3164"} {
			framings := [][]string{nil}
			if transport == "--tcp" {
				framings = append(framings, []string{"--octet-count"})
			}
			for _, fr := range framings {
				args := append([]string{transport, rfc}, fr...)
				runs = append(runs, run{name: strings.Join(args, " "), args: args, rfc: rfc})
			}
		}
	}
	from := time.Now()
	for i, r := range runs {
		msg := fmt.Sprintf("%s #%d", korean, i)
		args := append([]string{"--server", "127.0.0.1", "--port", port, "-t", "payment", "-p", "local0.err", "--id=4242"}, r.args...)
		if r.rfc == "--rfc5424" {
			args = append(args, "--msgid", "PAY1", "--sd-id", "trace@32473", "--sd-param", fmt.Sprintf(`trace_id="trace%d"`, i),
				"--sd-param", `note="a \"quoted\" value"`)
		}
		args = append(args, msg)
		cmd := exec.Command(logger, args...)
		cmd.Env = append(os.Environ(), "TZ=UTC")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("logger %s: %v\n%s", r.name, err, out)
		}
	}
	ev := s.rec.wait(t, len(runs))
	to := time.Now()
	host := shortHost(t)
	for i, r := range runs {
		e := findMessage(t, ev, fmt.Sprintf("%s #%d", korean, i))
		checkTime(t, r.name, e.Time, from, to)
		if e.Level != "ERROR" || e.Index != "payment" || field(e, "service") != "payment" ||
			field(e, "facility") != "local0" || field(e, "host") != host || field(e, "pid") != "4242" {
			t.Errorf("%s: event %+v", r.name, e)
		}
		if r.rfc == "--rfc5424" {
			if e.TraceID != fmt.Sprintf("trace%d", i) || field(e, "msgid") != "PAY1" ||
				field(e, "sd.trace@32473.note") != `a "quoted" value` || field(e, "sd.timeQuality.tzKnown") != "1" {
				t.Errorf("%s: 5424 fields of %+v", r.name, e)
			}
		}
	}
}

// TestRsyslog runs rsyslogd in the foreground with a private config: it
// takes messages from logger on a TCP port of its own and forwards them to
// the server by omfwd with octet-counted framing, escaping the raw LF of a
// multi-line message as #012 on the way.
func TestRsyslog(t *testing.T) {
	rsyslogd := need(t, "rsyslogd", "rsyslog")
	logger := need(t, "logger", "bsdutils")
	s := startTest(t, pipeline.DefaultOptions(), &recorder{}, nil)
	port := s.TCPAddr().(*net.TCPAddr).Port
	inPort := freeTCPPort(t)
	dir := t.TempDir()
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imtcp")
input(type="imtcp" port="%d" address="127.0.0.1" ruleset="fwd")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="%d" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
}
`, dir, inPort, port)
	confPath := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rsyslogd, "-n", "-f", confPath, "-i", filepath.Join(dir, "rsyslogd.pid"))
	var out syncBuf
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	inAddr := fmt.Sprintf("127.0.0.1:%d", inPort)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", inAddr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd not listening on %s: %v\n%s", inAddr, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	from := time.Now()
	send := func(msg, traceID string) {
		cmd := exec.Command(logger, "--server", "127.0.0.1", "--port", fmt.Sprint(inPort), "--tcp", "--octet-count", "--rfc5424",
			"-t", "checkout", "-p", "local3.warning", "--id=77", "--sd-id", "trace@32473", "--sd-param", `trace_id="`+traceID+`"`, msg)
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("logger: %v\n%s", err, o)
		}
	}
	send(korean, "4bf92f3577b34da6a3ce929d0e0e4736")
	send("java.lang.IllegalStateException: boom\n\tat com.shop.Pay.run(Pay.java:42)", "00f067aa0ba902b7")
	ev := s.rec.wait(t, 2)
	to := time.Now()
	host := shortHost(t)
	e := findMessage(t, ev, korean)
	checkTime(t, "rsyslog", e.Time, from, to)
	if e.Level != "WARN" || e.Index != "checkout" || e.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" ||
		field(e, "facility") != "local3" || field(e, "host") != host || field(e, "pid") != "77" {
		t.Errorf("rsyslog event %+v", e)
	}
	e = findMessage(t, ev, "java.lang.IllegalStateException: boom\n\tat com.shop.Pay.run(Pay.java:42)")
	if e.TraceID != "00f067aa0ba902b7" {
		t.Errorf("rsyslog multi-line event %+v", e)
	}
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// pythonSender logs through logging.handlers.SysLogHandler: an error in
// Korean, a warning, and a multi-line message with raw LFs.
const pythonSender = `
import logging, logging.handlers, socket, sys
port, kind = int(sys.argv[1]), sys.argv[2]
st = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
h = logging.handlers.SysLogHandler(address=("127.0.0.1", port), facility=logging.handlers.SysLogHandler.LOG_LOCAL1, socktype=st)
h.ident = "pyapp[99]: "
log = logging.getLogger("t")
log.addHandler(h)
log.setLevel(logging.DEBUG)
log.error("%s " + kind, sys.argv[3])
log.warning("careful " + kind)
log.info("line one " + kind + "\nline two")
h.close()
`

func TestPythonSysLogHandler(t *testing.T) {
	python := need(t, "python3", "python3")
	s := startTest(t, pipeline.DefaultOptions(), &recorder{}, nil)
	port := fmt.Sprint(s.TCPAddr().(*net.TCPAddr).Port)
	from := time.Now()
	for _, kind := range []string{"tcp", "udp"} {
		cmd := exec.Command(python, "-c", pythonSender, port, kind, korean)
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("python %s: %v\n%s", kind, err, o)
		}
	}
	ev := s.rec.wait(t, 6)
	to := time.Now()
	for _, kind := range []string{"tcp", "udp"} {
		for _, c := range []struct{ msg, level string }{
			{korean + " " + kind, "ERROR"},
			{"careful " + kind, "WARN"},
			{"line one " + kind + "\nline two", "INFO"},
		} {
			e := findMessage(t, ev, c.msg)
			checkTime(t, kind, e.Time, from, to) // Python sends no timestamp: arrival time
			if e.Level != c.level || e.Index != "pyapp" || field(e, "service") != "pyapp" ||
				field(e, "pid") != "99" || field(e, "facility") != "local1" {
				t.Errorf("python %s: event %+v", kind, e)
			}
		}
	}
}

// syncBuf collects a child process's output.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
