package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/logcaster/logcaster/internal/alerts"
	"github.com/logcaster/logcaster/internal/ingest"
	"github.com/logcaster/logcaster/internal/ingest/esbulk"
	"github.com/logcaster/logcaster/internal/ingest/fluentforward"
	"github.com/logcaster/logcaster/internal/ingest/gelf"
	"github.com/logcaster/logcaster/internal/ingest/loki"
	"github.com/logcaster/logcaster/internal/ingest/otlp"
	"github.com/logcaster/logcaster/internal/ingest/syslog"
	"github.com/logcaster/logcaster/internal/issues"
	"github.com/logcaster/logcaster/internal/issues/sentry"
	"github.com/logcaster/logcaster/internal/live"
	"github.com/logcaster/logcaster/internal/metrics"
	"github.com/logcaster/logcaster/internal/pipeline"
	"github.com/logcaster/logcaster/internal/query"
	"github.com/logcaster/logcaster/internal/server"
	"github.com/logcaster/logcaster/internal/store"
	"github.com/logcaster/logcaster/internal/ui"
)

// serveConfig is every setting of logcaster serve, bound to flags.
type serveConfig struct {
	config         string
	logFormat      string
	logLevel       string
	shutdownGrace  time.Duration
	memoryLimit    int64
	maxIndexLabels int

	srv    server.Options
	store  store.Options
	pipe   pipeline.Options
	tcp    ingest.TCPOptions
	sysl   syslog.Options
	gelf   gelf.Options
	fluent fluentforward.Options
	es     esbulk.Options
	loki   loki.Options
	otlp   otlp.Options
	http   ingest.HTTPOptions
	query  query.HandlerOptions
	sync   string

	issues    issues.Options
	sentry    sentry.Options
	publicURL string
	live      live.Options

	alerts     alerts.Options
	alertRules string
}

func newServeFlags() (*flag.FlagSet, *serveConfig) {
	c := &serveConfig{
		srv:    server.DefaultOptions(),
		store:  store.DefaultOptions(),
		pipe:   pipeline.DefaultOptions(),
		tcp:    ingest.DefaultTCPOptions(),
		sysl:   syslog.DefaultOptions(),
		gelf:   gelf.DefaultOptions(),
		fluent: fluentforward.DefaultOptions(),
		es:     esbulk.DefaultOptions(),
		loki:   loki.DefaultOptions(),
		otlp:   otlp.DefaultOptions(),
		http:   ingest.DefaultHTTPOptions(),
		query:  query.DefaultHandlerOptions(),
		issues: issues.DefaultOptions(),
		sentry: sentry.DefaultOptions(),
		live:   live.DefaultOptions(),
		alerts: alerts.DefaultOptions(),
	}
	c.issues.Dir = "" // under --data unless set
	c.srv.Version = version
	c.sync = string(c.store.Sync)
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&c.config, "config", "", "YAML config file whose keys are these flag names")
	fs.StringVar(&c.logFormat, "log-format", "text", "format of the server's own log: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	// 448 MiB: measured, the 10M-event HTTP ingest peaked at 966 MiB RSS
	// without it and at 449 MiB with it, at the same rate on 1M events.
	c.memoryLimit = 448 << 20
	fs.Var(sizeValue[int64]{&c.memoryLimit}, "memory-limit", "soft limit of the Go heap (the GC works harder near it; GOMEMLIMIT, when set, wins); 0: none")
	fs.IntVar(&c.maxIndexLabels, "metrics.max-index-labels", metrics.DefaultMaxIndexLabels, "index names that get their own label in /metrics; later ones are counted as \"other\"")
	fs.Var(durationValue{&c.shutdownGrace}, "shutdown-grace", "how long a graceful shutdown may take")
	c.shutdownGrace = 30 * time.Second

	fs.StringVar(&c.srv.HTTPAddr, "http", c.srv.HTTPAddr, "HTTP address (API, /health, /metrics); empty turns it off")
	fs.Var(durationValue{&c.srv.IdleTimeout}, "http.idle-timeout", "close idle HTTP keep-alive connections after this")
	fs.Var(durationValue{&c.srv.ReadTimeout}, "http.read-timeout", "longest time to read one request, body included")
	fs.IntVar(&c.srv.MaxConns, "http.max-conns", c.srv.MaxConns, "most concurrent HTTP connections; more are closed at once")
	fs.Var(sizeValue[int64]{&c.http.MaxBodyBytes}, "http.max-body", "largest ingest body, after decompression (larger: 413)")

	fs.StringVar(&c.tcp.Addr, "tcp", c.tcp.Addr, "TCP lines address (text or JSON, one event a line; also logcaster send); empty turns it off")
	fs.Var(sizeValue[int]{&c.tcp.MaxLineBytes}, "tcp.max-line", "longest line kept whole; longer lines are truncated and marked truncated=true")
	fs.IntVar(&c.tcp.MaxConns, "tcp.max-conns", c.tcp.MaxConns, "most concurrent TCP connections; more are closed at once")
	fs.Var(durationValue{&c.tcp.IdleTimeout}, "tcp.idle-timeout", "close a TCP connection that sends nothing for this long")

	fs.StringVar(&c.sysl.Addr, "syslog", c.sysl.Addr, "syslog address, TCP and UDP (RFC 5424/3164; LF, octet-counted or NUL framing); empty turns it off")
	fs.Var(sizeValue[int]{&c.sysl.MaxMessageBytes}, "syslog.max-message", "largest syslog message; a larger TCP frame closes its connection, a larger datagram is dropped")
	fs.IntVar(&c.sysl.MaxConns, "syslog.max-conns", c.sysl.MaxConns, "most concurrent syslog TCP connections")
	fs.Var(durationValue{&c.sysl.IdleTimeout}, "syslog.idle-timeout", "close a syslog TCP connection idle this long")
	fs.StringVar(&c.sysl.DefaultIndex, "syslog.index", c.sysl.DefaultIndex, "index of syslog events; empty: the sender's APP-NAME or TAG")

	fs.StringVar(&c.gelf.Addr, "gelf", c.gelf.Addr, "GELF address, UDP (chunked, gzip/zlib) and TCP (NUL-delimited); GELF HTTP is POST /gelf; empty turns it off")
	fs.Var(sizeValue[int]{&c.gelf.MaxMessageBytes}, "gelf.max-message", "largest GELF message, after decompression")
	fs.StringVar(&c.fluent.Addr, "fluent", c.fluent.Addr, "Fluentd forward protocol address (Fluent Bit, Fluentd); empty turns it off")
	fs.Var(sizeValue[int]{&c.fluent.MaxFrameBytes}, "fluent.max-frame", "largest Fluentd forward frame")

	fs.StringVar(&c.store.Dir, "data", c.store.Dir, "data directory")
	fs.StringVar(&c.sync, "sync", c.sync, "WAL fsync policy: always (before every acknowledgement), interval (every --sync-interval), none")
	fs.Var(durationValue{&c.store.SyncInterval}, "sync-interval", "fsync period for --sync=interval")
	fs.Var(durationValue{&c.store.FlushInterval}, "flush-interval", "how often new events are written from memory into parts")
	fs.Var(durationValue{&c.store.Retention}, "retention", "keep this much history; older whole days are dropped (e.g. 30d)")
	fs.Var(sizeValue[int64]{&c.store.MaxDiskBytes}, "retention.max-disk-usage", "when the store's parts take more than this, the oldest days are dropped (e.g. 100GiB); 0: no limit")
	fs.IntVar(&c.pipe.QueueEvents, "queue-size", c.pipe.QueueEvents, "ingest queue capacity in events; when full, TCP reads slow and HTTP answers 429")

	fs.Var(durationValue{&c.query.Timeout}, "query-timeout", "longest a query may run")
	fs.IntVar(&c.query.MaxLimit, "query.max-limit", c.query.MaxLimit, "largest limit a query may ask for")
	fs.Var(sizeValue[int64]{&c.query.MaxMemoryBytes}, "query-max-memory", "most memory one query may hold (rows, stats groups); over it the query stops with an error")
	fs.StringVar(&c.issues.Dir, "issues.dir", "", "folder of the issue state (journal and snapshot); empty: DATA/issues")
	fs.IntVar(&c.issues.EventsPerIssue, "issues.events-per-issue", c.issues.EventsPerIssue, "newest error events kept whole per issue")
	fs.Var(sizeValue[int64]{&c.sentry.MaxBodyBytes}, "sentry.max-body", "largest Sentry envelope or event, after decompression")
	fs.StringVar(&c.publicURL, "public-url", "", "base URL put in DSNs (e.g. http://logs.example.com:8080); empty: the request's Host")
	fs.StringVar(&c.alertRules, "alerts.rules", "", "YAML file of alert rules (a list under alerts:); more can be added with POST /api/v1/alerts/rules")
	fs.Var(durationValue{&c.alerts.Interval}, "alerts.interval", "how often query_threshold alert rules are evaluated")
	fs.Var(durationValue{&c.alerts.Cooldown}, "alerts.cooldown", "least time between two alerts of one rule for one issue")
	fs.IntVar(&c.alerts.MaxAttempts, "alerts.max-attempts", c.alerts.MaxAttempts, "delivery attempts of one alert before it is marked failed")
	fs.Var(sizeValue[int64]{&c.live.ReplayBytes}, "tail.replay-bytes", "recent events kept for live tails to resume from (Last-Event-ID)")
	fs.Var(sizeValue[int64]{&c.live.LogBytes}, "tail.log-bytes", "resume log (8 bytes an event, in DATA/live): a tail resumes exactly, from the store, from any cursor it covers")
	fs.Var(durationValue{&c.live.ResumeWindow}, "tail.resume-window", "keep the resume buffer filled this long after the last open tail; with no tail for longer, events are not copied for tails")
	fs.IntVar(&c.live.MaxTails, "tail.max", c.live.MaxTails, "most concurrent live tails (GET /api/v1/tail)")
	fs.IntVar(&c.live.MaxPerClient, "tail.max-per-client", c.live.MaxPerClient, "most concurrent live tails from one remote address")
	fs.Var(durationValue{&c.live.MaxDuration}, "tail.max-duration", "longest a live tail stays open before it ends with a resume cursor")
	fs.Var(durationValue{&c.live.Idle}, "tail.idle", "a live tail that matched nothing this long ends with a resume cursor")
	fs.Var(durationValue{&c.live.FlushInterval}, "tail.flush-interval", "least time between two writes of one live tail (events meanwhile go out together)")
	fs.IntVar(&c.live.Writers, "tail.writers", c.live.Writers, "goroutines writing the live tails; at most GOMAXPROCS/2 write at once, the rest stand by for writers stuck on a viewer (up to --tail.write-timeout each)")
	fs.Var(durationValue{&c.live.WriteTimeout}, "tail.write-timeout", "a live tail whose connection takes nothing this long is cut off (it resumes from its cursor)")
	fs.IntVar(&c.live.PendingEvents, "tail.pending-events", c.live.PendingEvents, "events waiting to be matched against live tails; past it ingest goes on and tails get a dropped notice with a resume cursor")
	return fs, c
}

func runServe(args []string) error {
	fs, c := newServeFlags()
	if err := loadSettings(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	log, err := newLogger(c.logFormat, c.logLevel)
	if err != nil {
		return err
	}
	slog.SetDefault(log)
	if c.memoryLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(c.memoryLimit)
	}
	if c.live.Dir == "" {
		// The resume log lets a tail resume exactly across a restart.
		c.live.Dir = filepath.Join(c.store.Dir, "live")
	}
	hub, err := live.NewHub(c.live, time.Now())
	if err != nil {
		return err
	}
	c.store.Sync = store.SyncPolicy(c.sync)

	m := metrics.New()
	m.MaxIndexLabels = c.maxIndexLabels
	c.store.Logger = log
	c.store.Metrics = m
	st, err := store.Open(c.store)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	pipe, err := pipeline.New(c.pipe, st)
	if err != nil {
		st.Close()
		return err
	}
	c.srv.DataDir = c.store.Dir // for the free-disk check of /health
	if c.issues.Dir == "" {
		c.issues.Dir = filepath.Join(c.store.Dir, "issues")
	}
	c.issues.Logger = log
	c.issues.Metrics = m                             // logcaster_issues{status}
	c.issues.NoSync = c.store.Sync == store.SyncNone // the issue journal follows --sync
	var rules []alerts.Rule
	if c.alertRules != "" {
		if rules, err = alerts.LoadRules(c.alertRules); err != nil {
			pipe.Close()
			st.Close()
			return err
		}
	}
	c.alerts.PublicURL = c.publicURL
	if c.alerts.PublicURL == "" {
		c.alerts.PublicURL = "http://" + c.srv.HTTPAddr
	}
	c.alerts.Store, c.alerts.Metrics, c.alerts.Logger = st, m, log
	c.alerts.Dir = filepath.Join(c.store.Dir, "alerts") // rules added through the API
	alertEngine, err := alerts.New(c.alerts, rules)
	if err != nil {
		pipe.Close()
		st.Close()
		return fmt.Errorf("start alerts: %w", err)
	}
	defer alertEngine.Close()
	c.issues.OnChange = alertEngine.OnIssue
	tracker, err := issues.Open(c.issues)
	if err != nil {
		pipe.Close()
		st.Close()
		return fmt.Errorf("open issues: %w", err)
	}
	defer tracker.Close()
	pipe.Subscribe(tracker.Consume)
	pipe.Subscribe(hub.Publish)
	srv := server.New(c.srv, st, pipe, m, log)
	liveHandler := live.NewHandler(hub, st, m.LiveSubscribers)
	srv.Handle(live.Route, liveHandler)
	srv.Handle(live.RouteWS, liveHandler.WebSocket())
	(&issues.API{T: tracker, Store: st, PublicURL: c.publicURL}).Register(srv.Handle)
	alertEngine.Register(srv.Handle)
	c.sentry.Metrics, c.sentry.Logger = m, log
	sentryHandler := sentry.New(pipe, tracker, c.sentry)
	srv.Handle(sentry.RouteEnvelope, sentryHandler)
	srv.Handle(sentry.RouteStore, sentryHandler)
	c.query.Observe = func(d time.Duration) { m.QueryDuration.Observe(d.Seconds()) }
	srv.Handle("GET /api/v1/query", query.NewHandler(st, c.query))
	srv.Handle(query.RouteFieldNames, query.NewFieldNamesHandler(st, c.query))
	srv.Handle(query.RouteFieldValues, query.NewFieldValuesHandler(st, c.query))
	// The web UI: the page at / (exactly) and its assets; other paths stay
	// 404 for every method.
	srv.Handle("GET /{$}", ui.Handler())
	srv.Handle("GET /static/", ui.Handler())
	c.http.Metrics = m
	srv.Handle("POST /api/v1/ingest", ingest.NewIngestHandler(pipe, c.http))
	if c.tcp.Addr != "" {
		c.tcp.Metrics = m
		c.tcp.Logger = log
		tcp, err := ingest.NewTCPServer(pipe, c.tcp)
		if err != nil {
			return err
		}
		srv.AddListener(tcp)
	}
	c.es.Metrics, c.es.Logger = m, log
	es := esbulk.New(pipe, c.es)
	for _, route := range esbulk.Routes {
		srv.Handle(route, es)
	}
	c.loki.Metrics, c.loki.Logger = m, log
	srv.Handle(loki.Route, loki.New(pipe, c.loki))
	c.otlp.Metrics, c.otlp.Logger = m, log
	srv.Handle(otlp.Route, otlp.New(pipe, c.otlp))
	c.gelf.Metrics, c.gelf.Logger = m, log
	gs, err := gelf.New(pipe, c.gelf)
	if err != nil {
		return err
	}
	srv.Handle("POST /gelf", gs.Handler()) // works without the listeners
	if c.gelf.Addr != "" {
		srv.AddListener(gs)
	}
	if c.fluent.Addr != "" {
		c.fluent.Metrics, c.fluent.Logger = m, log
		fl, err := fluentforward.New(pipe, c.fluent)
		if err != nil {
			return err
		}
		srv.AddListener(fl)
	}
	if c.sysl.Addr != "" {
		c.sysl.Metrics = m
		c.sysl.Logger = log
		sl, err := syslog.New(pipe, c.sysl)
		if err != nil {
			return err
		}
		srv.AddListener(sl)
	}
	if err := srv.Start(); err != nil {
		hub.Close()
		ctx, cancel := context.WithTimeout(context.Background(), c.shutdownGrace)
		defer cancel()
		srv.Shutdown(ctx)
		return err
	}
	log.Info("logcaster serving", "http", c.srv.HTTPAddr, "tcp", c.tcp.Addr, "syslog", c.sysl.Addr, "gelf", c.gelf.Addr, "fluent", c.fluent.Addr, "gelf", c.gelf.Addr, "fluent", c.fluent.Addr, "data", c.store.Dir, "version", version)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	got := <-sig
	log.Info("shutting down", "signal", got.String())
	signal.Stop(sig)
	// Alerts stop first: their threshold queries must not run on the store
	// Shutdown closes; changes recorded after this are dropped, not blocked.
	alertEngine.Close()
	// Live tails end first, each with a resume cursor: the server's
	// Shutdown waits for handlers, and a stream would otherwise never return.
	hub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), c.shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped cleanly")
	return nil
}

func newLogger(format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}
