package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/logcaster/logcaster/internal/sendproto"
)

// Frame sizing of logcaster send: ~1 MB or 5000 lines, whichever comes
// first, keeps per-frame overhead (one ack, one batch) negligible while a
// frame stays quick to resend.
const (
	sendFrameBytes = 1 << 20
	sendFrameLines = 5000
	// sendMaxLine is the most of one line sent; the rest of a longer line is
	// skipped. It is above the server's line limit (256 KiB by default), so
	// the server still sees the line as too long and marks it truncated.
	sendMaxLine = 1 << 20
	// sendReadBuffer is the file read buffer.
	sendReadBuffer = 1 << 20
	// sendProgressEvery is how often the progress line is redrawn.
	sendProgressEvery = 500 * time.Millisecond
)

const sendUsage = `Usage: logcaster send [--server host:9999] [--index NAME] [FILE...]

Ships text or JSON lines from the files (or stdin) to a LogCaster server over
the acknowledged framing of the TCP lines port, and returns once the server
has stored every line durably. Lines not yet acknowledged when a connection
breaks are resent after reconnecting; the server stores them once.

Flags:
`

func runSend(args []string) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), sendUsage)
		fs.PrintDefaults()
	}
	server := fs.String("server", envOr("LOGCASTER_SEND_SERVER", "localhost:9999"), "server TCP lines address host:port (env LOGCASTER_SEND_SERVER)")
	index := fs.String("index", "", "index of lines that name none (default: the server's)")
	progress := fs.Bool("progress", stderrIsTerminal(), "show progress on stderr (default: when stderr is a terminal)")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}

	var total int64 // bytes of all files; 0 when reading stdin
	for _, name := range files {
		st, err := os.Stat(name)
		if err != nil {
			return err
		}
		total += st.Size()
	}

	opts := sendproto.DefaultClientOptions(*server)
	opts.Index = *index
	client, err := sendproto.Dial(opts)
	if err != nil {
		return err
	}
	s := &sender{client: client, start: time.Now(), total: total}
	stop := func() {}
	if *progress {
		stop = s.showProgress(os.Stderr)
	}
	err = s.sendAll(files)
	if cerr := client.Close(); err == nil {
		err = cerr
	}
	stop()
	if err != nil {
		return err
	}
	if *progress {
		fmt.Fprintf(os.Stderr, "sent %d events (%.1f MB) in %.1fs\n", s.lines(), float64(s.read())/1e6, time.Since(s.start).Seconds())
	}
	return nil
}

// stderrIsTerminal reports whether stderr is a character device.
func stderrIsTerminal() bool {
	st, err := os.Stderr.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

type sender struct {
	client *sendproto.Client
	start  time.Time
	total  int64

	mu        sync.Mutex
	readBytes int64
	readLines int64
	frame     []byte
	nLines    int
}

func (s *sender) lines() int64 { s.mu.Lock(); defer s.mu.Unlock(); return s.readLines }
func (s *sender) read() int64  { s.mu.Lock(); defer s.mu.Unlock(); return s.readBytes }

func (s *sender) sendAll(files []string) error {
	if len(files) == 0 {
		if err := s.sendStream(os.Stdin); err != nil {
			return fmt.Errorf("stdin: %w", err)
		}
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = s.sendStream(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return s.flush()
}

// sendStream frames the lines of r.
func (s *sender) sendStream(r io.Reader) error {
	br := bufio.NewReaderSize(r, sendReadBuffer)
	lineLen := 0 // bytes of the current line already in the frame
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			s.mu.Lock()
			s.readBytes += int64(len(chunk))
			s.mu.Unlock()
			keep := chunk[:min(len(chunk), max(0, sendMaxLine-lineLen))]
			s.frame = append(s.frame, keep...)
			lineLen += len(keep)
			if chunk[len(chunk)-1] == '\n' || err == io.EOF {
				if keep := s.frame; len(keep) > 0 && keep[len(keep)-1] != '\n' {
					s.frame = append(s.frame, '\n') // the cut or unterminated line
				}
				lineLen = 0
				s.nLines++
				s.mu.Lock()
				s.readLines++
				s.mu.Unlock()
				if len(s.frame) >= sendFrameBytes || s.nLines >= sendFrameLines {
					if ferr := s.flush(); ferr != nil {
						return ferr
					}
				}
			}
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case err == io.EOF:
			return nil
		default:
			return err
		}
	}
}

func (s *sender) flush() error {
	if len(s.frame) == 0 {
		return nil
	}
	err := s.client.Send(s.frame)
	s.frame, s.nLines = s.frame[:0], 0
	return err
}

// showProgress redraws one status line on w until the returned func is
// called.
func (s *sender) showProgress(w io.Writer) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(sendProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\x1b[K")
				return
			case <-t.C:
				secs := time.Since(s.start).Seconds()
				_, acked, _ := s.client.Acked()
				line := fmt.Sprintf("\r\x1b[K%d events, %.0f events/s, %.1f MB/s", s.lines(), float64(s.lines())/secs, float64(s.read())/1e6/secs)
				if s.total > 0 {
					line += fmt.Sprintf(", %.1f/%.1f MB acknowledged", float64(acked)/1e6, float64(s.total)/1e6)
				} else {
					line += fmt.Sprintf(", %.1f MB acknowledged", float64(acked)/1e6)
				}
				fmt.Fprint(w, line)
			}
		}
	}()
	return func() { close(done); <-finished }
}
