package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// benchPrintReport writes the human table of a bench run.
func benchPrintReport(w io.Writer, r *benchResult) {
	m := r.Machine
	fmt.Fprintf(w, "LogCaster bench, %s, logcaster %s\n", r.Started.Format(time.RFC3339), r.Version)
	fmt.Fprintf(w, "command: %s\n", r.Command)
	fmt.Fprintf(w, "machine: %d CPUs, %s, %s RAM, Linux %s, %s %s\n", m.CPUs, m.CPUModel, m.MemTotal, m.Kernel, m.GoVersion, m.OS)
	fmt.Fprintf(w, "load:    %s at the start, %s at the end (1, 5, 15 min; anything near or over %d means other work shared the CPUs)\n",
		m.LoadAvg, r.LoadAvgAtEnd, m.CPUs)
	c := r.Corpus
	perEvent := 0.0
	if c.Events > 0 {
		perEvent = float64(c.Bytes) / float64(c.Events)
	}
	fmt.Fprintf(w, "corpus:  %s, %s events, %.1f MB (%.0f B/event), %s .. %s\n",
		c.Path, benchThousands(int64(c.Events)), float64(c.Bytes)/1e6, perEvent, c.First, c.Last)
	if r.Server == "own" {
		fmt.Fprintln(w, "server:  own (logcaster serve, default settings, free loopback ports, fresh --data), a fresh one per ingest phase")
	} else {
		fmt.Fprintf(w, "server:  external %s (no server CPU or RSS figures)\n", r.Server)
	}

	if len(r.Ingest) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "ingest\tevents/s\tMB/s\tseconds\tserver CPU s/M ev\tto idle s/M ev\tsettle s\tpeak RSS MiB\tclient CPU s\tstored\t")
		for _, in := range r.Ingest {
			name := in.Phase
			if in.Phase == "http" {
				name = fmt.Sprintf("http %dx%d", in.Senders, in.BatchLines)
			} else {
				name = fmt.Sprintf("tcp %d conns", in.Senders)
			}
			fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.2f\t%s\t%s\t%s\t%s\t%.2f\t%s\t\n", name,
				benchThousands(int64(in.EventsPerS)), in.MBPerS, in.Seconds,
				benchOptF(in.CPUPerM, 2), benchOptF(in.CPUPerMIdle, 2), benchOptF(in.SettleS, 1), benchOptF(in.PeakRSSMiB, 0),
				in.ClientCPU, benchThousands(int64(in.Stored)))
		}
		tw.Flush()
		for _, in := range r.Ingest {
			if in.Phase == "http" && (in.Rejected > 0 || in.Retries > 0 || in.Accepted != in.Events) {
				fmt.Fprintf(w, "  http: accepted %d of %d, rejected %d, retried %d bodies after 429/503\n", in.Accepted, in.Events, in.Rejected, in.Retries)
			}
			if in.Stored != uint64(in.Events) && in.Error == "" {
				fmt.Fprintf(w, "  %s: stored %d of %d events\n", in.Phase, in.Stored, in.Events)
			}
			if in.WrittenS > 0 {
				fmt.Fprintf(w, "  tcp: the last write returned after %.2f s (socket buffers aside, the server had read it all), all stored after %.2f s\n", in.WrittenS, in.Seconds)
			}
			if in.Error != "" {
				fmt.Fprintf(w, "  %s: ERROR %s\n", in.Phase, in.Error)
			}
		}
	}

	if g := r.Merge; g != nil {
		fmt.Fprintln(w)
		if g.Error != "" {
			fmt.Fprintf(w, "merge: ERROR %s\n", g.Error)
		} else {
			fmt.Fprintf(w, "merge: force_merge took %.2f s (server says %d ms, server CPU %.2f s): %d parts, %s rows, %.1f MB = %.1f bytes/event",
				g.Seconds, g.TookMS, g.ServerCPU, g.Parts, benchThousands(int64(g.Rows)), float64(g.DiskBytes)/1e6, g.BytesPerEvent)
			if g.DuAllocated > 0 {
				fmt.Fprintf(w, "; du of the data folder %.1f MB = %.1f bytes/event", float64(g.DuAllocated)/1e6, g.DuPerEvent)
			}
			if g.PeakRSSMiB > 0 {
				fmt.Fprintf(w, "; server peak RSS %.0f MiB", g.PeakRSSMiB)
			}
			fmt.Fprintln(w)
		}
	}

	if len(r.Queries) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "queries (%s, sequential, median and p90 of the timed runs, whole answer read):\n", r.QueryArgs)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "query\tmedian ms\tp90 ms\truns\trows\tcorpus says\tq  →  first row")
		wrong := 0
		for _, q := range r.Queries {
			if q.Error != "" {
				fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t\t%s  →  %s\n", q.Name, q.Query, benchOneLine(q.Error, 100))
				continue
			}
			want := q.Want
			if q.Wrong {
				want += " WRONG"
				wrong++
			}
			fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%d\t%d\t%s\t%s  →  %s\n", q.Name, q.MedianMS, q.P90MS, q.Runs, q.Rows, want, q.Query, benchOneLine(q.First, 80))
		}
		tw.Flush()
		if wrong > 0 {
			fmt.Fprintf(w, "  %d answers differ from what the corpus holds (WRONG): their times do not count\n", wrong)
		}
	}

	if len(r.ServerLog) > 0 {
		fmt.Fprintln(w)
		for _, l := range r.ServerLog {
			fmt.Fprintln(w, benchOneLine(l, 240))
		}
	}
}

// benchOptF formats v with prec decimals, or "-" when it was not measured.
func benchOptF(v float64, prec int) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

// benchThousands writes n with comma separators: 1234567 → "1,234,567".
func benchThousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func benchOneLine(s string, max int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
