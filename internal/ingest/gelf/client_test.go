package gelf

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aphistic/golf"
	"github.com/logcaster/logcaster/internal/ingest/ingesttest"
)

// TestGolfClientUDP sends with a real GELF client from the module proxy
// (github.com/aphistic/golf: gzip or zlib, chunked above ChunkSize) a
// message large enough to need ~40 chunks, and checks every field.
//
// gopkg.in/Graylog2/go-gelf.v2, the client the issue names, is refused by
// the module proxy here (403), and golf's "tcp" scheme writes chunked UDP
// datagrams onto the stream rather than GELF TCP's NUL-delimited frames,
// so GELF TCP is tested with exact wire bytes in server_test.go.
func TestGolfClientUDP(t *testing.T) {
	s, w, m := startTestServer(t, nil)
	// Random hex does not compress below half, so 40 KB of it needs
	// ~20 KB of chunks of 500 bytes: ~40 chunks.
	rng := rand.New(rand.NewPCG(1, 2))
	var full strings.Builder
	for full.Len() < 40000 {
		fmt.Fprintf(&full, "%016x", rng.Uint64())
	}
	ts := time.Unix(1700000000, 250_000_000)
	for i, comp := range []string{"gzip", "zlib"} {
		c, err := golf.NewClientWithConfig(golf.ClientConfig{ChunkSize: 500})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Dial("udp://" + s.UDPAddr().String() + "?compress=" + comp); err != nil {
			t.Fatal(err)
		}
		l, err := c.NewLogger()
		if err != nil {
			t.Fatal(err)
		}
		msg := l.NewMessage()
		msg.Level = golf.LEVEL_ERR
		msg.Hostname = "pay-1"
		tsi := ts.Add(time.Duration(i) * time.Second)
		msg.Timestamp = &tsi
		msg.ShortMessage = "결제 실패: 카드 한도 초과 " + comp
		msg.FullMessage = full.String()
		msg.Attrs["trace_id"] = "4bf92f3577b34da6a3ce929d0e0e4736"
		msg.Attrs["index"] = "payment"
		if err := c.QueueMsg(msg); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	got := ingesttest.RenderAll(w.Wait(t, 2))
	for i, comp := range []string{"gzip", "zlib"} {
		var ev string
		for _, g := range got {
			if strings.Contains(g, `msg="결제 실패: 카드 한도 초과 `+comp+`"`) {
				ev = g
			}
		}
		want := fmt.Sprintf(`time=%d index=payment level=ERROR msg="결제 실패: 카드 한도 초과 %s" trace=4bf92f3577b34da6a3ce929d0e0e4736 `,
			ts.Add(time.Duration(i)*time.Second).UnixNano(), comp)
		if !strings.HasPrefix(ev, want) {
			t.Errorf("%s: got %.300s\nwant prefix %s", comp, ev, want)
		}
		// Extra fields come in map order from golf; check them by content.
		for _, f := range []string{`host="pay-1"`, `full_message="` + full.String() + `"`} {
			if !strings.Contains(ev, f) {
				t.Errorf("%s: field %.60s... missing", comp, f)
			}
		}
	}
	if n := ingesttest.Rejected(m, protoUDP, "bad_chunk") + ingesttest.Dropped(m, protoUDP, "chunks_incomplete"); n != 0 {
		t.Errorf("chunk problems counted: %v", n)
	}
}
