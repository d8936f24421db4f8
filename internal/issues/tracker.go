package issues

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/logcaster/logcaster/internal/fsutil"
	"github.com/logcaster/logcaster/internal/metrics"
)

// Options configure a Tracker.
type Options struct {
	// Dir holds the snapshot and the journal.
	Dir string
	// EventsPerIssue is how many of its newest events an issue keeps whole.
	EventsPerIssue int
	// MaxUsers caps the exact set of distinct users of an issue.
	MaxUsers int
	// MaxTagKeys and MaxTagValues bound the tags counted per issue.
	MaxTagKeys, MaxTagValues int
	// CompactBytes is the journal size at which the state is written to a
	// new snapshot and the journal started afresh.
	CompactBytes int64
	// NoSync writes the journal without fsync (for --sync=none and tests):
	// a kill -9 loses nothing, a power loss what the system had not
	// written back.
	NoSync bool
	// QueueBatches bounds the subscriber's queue of log batches; past it
	// batches are dropped from issue tracking (they are stored anyway) and
	// counted in Dropped.
	QueueBatches int
	Logger       *slog.Logger // nil: slog.Default()
	// OnChange, if set, is called after each recorded event is durable,
	// outside the tracker's lock, with the issue and what the event did to
	// it. It runs on the recording goroutine, so it must not block.
	OnChange func(IssueView, Change)
	// Metrics, if set, gets the logcaster_issues{status} gauge kept at the
	// number of issues of each status.
	Metrics *metrics.Metrics
}

// DefaultOptions returns the options logcaster serve uses.
func DefaultOptions() Options {
	return Options{
		Dir:            "data/issues",
		EventsPerIssue: 20,
		MaxUsers:       10000,
		MaxTagKeys:     20,
		MaxTagValues:   100,
		CompactBytes:   64 << 20,
		QueueBatches:   1024,
	}
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	switch {
	case o.Dir == "":
		return errors.New("issues options: dir is empty")
	case o.EventsPerIssue <= 0 || o.MaxUsers <= 0 || o.MaxTagKeys <= 0 || o.MaxTagValues <= 0:
		return errors.New("issues options: limits must be positive")
	case o.CompactBytes <= 0 || o.QueueBatches <= 0:
		return errors.New("issues options: compact bytes and queue must be positive")
	}
	return nil
}

// Project is a Sentry project: a name, the key its DSN carries and the
// number its DSN names it by (the JavaScript and Python SDKs accept only a
// numeric project in a DSN). Projects that issues from ordinary logs open
// (named after their index) have neither until they are created.
type Project struct {
	Name    string `json:"name"`
	Key     string `json:"key"`
	ID      int64  `json:"id,omitempty"`
	Created int64  `json:"created"`
	NextSeq int64  `json:"next_seq"` // short id counter
}

// ErrNotFound is returned for an unknown issue or event.
var ErrNotFound = errors.New("not found")

// Tracker holds every issue and project and keeps them durable.
type Tracker struct {
	opts Options
	log  *slog.Logger

	mu       sync.RWMutex
	j        *journal
	gen      uint64
	nextID   int64
	projects map[string]*Project
	byID     map[int64]*issue
	byFP     map[string]*issue // project + "\x00" + fingerprint
	bySID    map[string]*issue

	sub subscriber

	change   Change // what the last apply did; under mu
	statuses statusCounts
}

// journalRecord is one change. Op is "project", "event" or "status".
type journalRecord struct {
	Op      string        `json:"op"`
	Project *Project      `json:"project,omitempty"`
	Event   *ErrorEvent   `json:"event,omitempty"`
	Time    int64         `json:"time,omitempty"`
	Issue   int64         `json:"issue,omitempty"`
	Status  *StatusChange `json:"status,omitempty"`
}

// StatusChange is what PATCH /api/v1/issues/{id} sends.
type StatusChange struct {
	Status string `json:"status"`
	// InNextRelease, with resolved: events of the release seen last do
	// not reopen the issue, a newer release does.
	InNextRelease bool `json:"in_next_release,omitempty"`
	// IgnoreCount, with ignored: the issue comes back after this many more
	// events; 0 ignores it for good.
	IgnoreCount int64 `json:"ignore_count,omitempty"`
}

type snapshot struct {
	Gen      uint64              `json:"gen"`
	NextID   int64               `json:"next_id"`
	Projects map[string]*Project `json:"projects"`
	Issues   []*issue            `json:"issues"`
}

// Open loads the state in opts.Dir (snapshot, then journal) and starts the
// subscriber's worker.
func Open(opts Options) (*Tracker, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create issues dir: %w", err)
	}
	t := &Tracker{opts: opts, log: opts.Logger, nextID: 1,
		projects: map[string]*Project{}, byID: map[int64]*issue{}, byFP: map[string]*issue{}, bySID: map[string]*issue{}}
	if t.log == nil {
		t.log = slog.Default()
	}
	data, err := readSnapshot(opts.Dir)
	switch {
	case errors.Is(err, errNoSnapshot):
	case err != nil:
		return nil, fmt.Errorf("read issues snapshot: %w", err)
	default:
		var s snapshot
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("decode issues snapshot: %w", err)
		}
		t.gen, t.nextID = s.Gen, s.NextID
		if s.Projects != nil {
			t.projects = s.Projects
		}
		for _, is := range s.Issues {
			t.index(is)
		}
	}
	j, err := openJournal(opts.Dir, t.gen, t.replay)
	if err != nil {
		return nil, err
	}
	j.noSync = opts.NoSync
	t.j = j
	if err := t.numberProjects(); err != nil {
		j.close()
		return nil, err
	}
	t.statuses.init(opts.Metrics)
	t.statuses.reset(t.byID)
	t.removeOldJournals()
	t.sub.start(t, opts.QueueBatches)
	return t, nil
}

func (t *Tracker) replay(payload []byte) error {
	if len(payload) > 0 && payload[0] == recEvent {
		e, err := decodeEventRecord(payload)
		if err != nil {
			return err
		}
		t.apply(e)
		return nil
	}
	var r journalRecord
	if err := json.Unmarshal(payload, &r); err != nil {
		return err
	}
	switch r.Op {
	case "project":
		if r.Project != nil {
			p := *r.Project
			t.projects[p.Name] = &p
		}
	case "event":
		if r.Event != nil {
			// JSON event records carry the time only as text.
			if ts, err := time.Parse(time.RFC3339Nano, r.Event.Timestamp); err == nil && r.Event.Time == 0 {
				r.Event.Time = ts.UnixNano()
			}
			t.apply(r.Event)
		}
	case "status":
		if is := t.byID[r.Issue]; is != nil && r.Status != nil {
			t.applyStatus(is, *r.Status)
		}
	}
	return nil
}

func (t *Tracker) removeOldJournals() {
	matches, _ := filepath.Glob(filepath.Join(t.opts.Dir, "journal-*.log"))
	keep := journalPath(t.opts.Dir, t.gen)
	for _, m := range matches {
		if m != keep {
			os.Remove(m)
		}
	}
}

func (t *Tracker) index(is *issue) {
	t.byID[is.ID] = is
	t.byFP[is.Project+"\x00"+is.Fingerprint] = is
	t.bySID[is.ShortID] = is
}

// Close stops the subscriber and syncs the journal.
func (t *Tracker) Close() error {
	t.sub.stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.j.close()
}

// write appends a record under t.mu (held by the caller) and returns its
// sequence for t.j.wait, to be called after t.mu is released.
func (t *Tracker) write(r *journalRecord) (uint64, error) {
	payload, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("encode issue record: %w", err)
	}
	return t.j.append(payload)
}

// CreateProject makes a project with a fresh key, or returns the existing
// one of that name.
func (t *Tracker) CreateProject(name string) (Project, error) {
	if !validProjectName(name) {
		return Project{}, fmt.Errorf("invalid project name %q: use letters, digits, '-' and '_'", name)
	}
	t.mu.Lock()
	old, ok := t.projects[name]
	if ok && old.Key != "" {
		t.mu.Unlock()
		return *old, nil
	}
	var k [16]byte
	rand.Read(k[:])
	p := &Project{Name: name, Key: hex.EncodeToString(k[:]), ID: t.maxProjectID() + 1, Created: time.Now().UnixNano()}
	if ok {
		// Issues from logs of this index opened it; keep their numbering.
		p.NextSeq = old.NextSeq
	}
	seq, err := t.write(&journalRecord{Op: "project", Project: p})
	j := t.j
	if err == nil {
		t.projects[name] = p
	}
	t.mu.Unlock()
	if err != nil {
		return Project{}, err
	}
	return *p, j.wait(seq)
}

// maxProjectName bounds a project name (it is also the short id prefix).
const maxProjectName = 64

func validProjectName(s string) bool {
	if s == "" || len(s) > maxProjectName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// Projects lists the projects.
func (t *Tracker) Projects() []Project {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]Project, 0, len(t.projects))
	for _, p := range t.projects {
		out = append(out, *p)
	}
	return out
}

// ProjectByID returns the project numbered id.
func (t *Tracker) ProjectByID(id int64) (Project, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, p := range t.projects {
		if p.ID == id && p.Key != "" {
			return *p, true
		}
	}
	return Project{}, false
}

func (t *Tracker) maxProjectID() int64 {
	var n int64
	for _, p := range t.projects {
		n = max(n, p.ID)
	}
	return n
}

// numberProjects gives a number to projects created before projects had
// one (in order of creation) and journals it, so the numbers stay put.
func (t *Tracker) numberProjects() error {
	var todo []*Project
	for _, p := range t.projects {
		if p.Key != "" && p.ID == 0 {
			todo = append(todo, p)
		}
	}
	sort.Slice(todo, func(i, j int) bool {
		if todo[i].Created != todo[j].Created {
			return todo[i].Created < todo[j].Created
		}
		return todo[i].Name < todo[j].Name
	})
	for _, p := range todo {
		p.ID = t.maxProjectID() + 1
		seq, err := t.write(&journalRecord{Op: "project", Project: p})
		if err == nil {
			err = t.j.wait(seq)
		}
		if err != nil {
			return fmt.Errorf("number project %s: %w", p.Name, err)
		}
	}
	return nil
}

// CheckKey tells whether key is project's key.
func (t *Tracker) CheckKey(project, key string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	p, ok := t.projects[project]
	return ok && key != "" && p.Key == key
}

// Record counts one error event: it finds (or opens) its issue, updates
// it, and returns the issue's short id once the change is durable.
func (t *Tracker) Record(e *ErrorEvent) (string, error) {
	one := [1]*ErrorEvent{e}
	var sid [1]string
	if err := t.RecordAll(one[:], sid[:]); err != nil {
		return "", err
	}
	return sid[0], nil
}

// RecordAll counts events as Record does, with one wait for the journal
// for all of them, and puts the short id of events[i]'s issue in sids[i]
// (sids may be nil). On an error the events may be counted in memory but
// not durable; the caller answers with the error and the sender retries.
func (t *Tracker) RecordAll(events []*ErrorEvent, sids []string) error {
	if len(events) == 0 {
		return nil
	}
	type changed struct {
		v  IssueView
		ch Change
	}
	var notify []changed
	t.mu.Lock()
	j := t.j
	var seq uint64
	for i, e := range events {
		var err error
		seq, err = j.appendRecord(func(dst []byte) []byte { return appendEventRecord(dst, e) })
		if err != nil {
			t.mu.Unlock()
			return fmt.Errorf("append issue event: %w", err)
		}
		t.change = ChangeCount
		is := t.apply(e)
		if sids != nil {
			sids[i] = is.ShortID
		}
		if t.opts.OnChange != nil {
			notify = append(notify, changed{is.view(time.Now(), false), t.change})
		}
	}
	compact := j.size > t.opts.CompactBytes
	t.mu.Unlock()
	if err := j.wait(seq); err != nil {
		return err
	}
	for _, n := range notify {
		t.opts.OnChange(n.v, n.ch)
	}
	if compact {
		if err := t.compact(false); err != nil {
			t.log.Error("compact issue state", "err", err)
		}
	}
	return nil
}

// apply updates the state with one event; t.mu is held (or Open runs).
func (t *Tracker) apply(e *ErrorEvent) *issue {
	fp := Fingerprint(e)
	key := e.Project + "\x00" + fp
	is := t.byFP[key]
	if is == nil {
		title, culprit, typ := titleAndCulprit(e)
		p := t.projects[e.Project]
		if p == nil {
			// Issues from ordinary logs name their index as the project;
			// it gets an entry (and a key) only when created explicitly.
			p = &Project{Name: e.Project}
			t.projects[e.Project] = p
		}
		p.NextSeq++
		is = &issue{ID: t.nextID, Project: e.Project, Fingerprint: fp, Title: title, Culprit: culprit, Type: typ,
			ShortID:   shortPrefix(e.Project) + "-" + strings.ToUpper(strconv.FormatInt(p.NextSeq, 36)),
			FirstSeen: e.Time, Status: StatusUnresolved, Users: map[string]struct{}{}, Tags: map[string]map[string]int64{}}
		t.nextID++
		t.index(is)
		t.statuses.move("", is.Status)
		t.change = ChangeNew
	}
	is.Count++
	if e.Time > is.LastSeen {
		is.LastSeen = e.Time
	}
	if e.Time < is.FirstSeen {
		is.FirstSeen = e.Time
	}
	is.Level = e.Level
	if u := e.user(); u != "" {
		if _, ok := is.Users[u]; !ok {
			if len(is.Users) < t.opts.MaxUsers {
				is.Users[u] = struct{}{}
			} else {
				is.UsersCapped = true
			}
		}
	}
	h := e.Time / int64(time.Hour)
	if i := h % sparkHours; i >= 0 {
		if is.HourOf[i] != h {
			is.HourOf[i], is.Hours[i] = h, 0
		}
		is.Hours[i]++
	}
	t.tag(is, "release", e.Release)
	t.tag(is, "environment", e.Environment)
	t.tag(is, "server_name", e.ServerName)
	t.tag(is, "level", e.Level)
	for k, v := range e.Tags {
		t.tag(is, k, v)
	}
	switch is.Status {
	case StatusResolved:
		if !(is.InNextRelease && e.Release == is.ResolvedRelease) {
			t.statuses.move(is.Status, StatusUnresolved)
			is.Status, is.Regressed, is.InNextRelease = StatusUnresolved, true, false
			is.Regressions++
			t.change = ChangeRegression
		}
	case StatusIgnored:
		if is.IgnoreUntil > 0 && is.Count >= is.IgnoreUntil {
			t.statuses.move(is.Status, StatusUnresolved)
			is.Status, is.IgnoreUntil = StatusUnresolved, 0
		}
	}
	if e.Release != "" {
		is.LastRelease = e.Release
	}
	is.Events = append(is.Events, e)
	if n := len(is.Events) - t.opts.EventsPerIssue; n > 0 {
		copy(is.Events, is.Events[n:])
		clear(is.Events[len(is.Events)-n:])
		is.Events = is.Events[:len(is.Events)-n]
	}
	return is
}

func (t *Tracker) tag(is *issue, k, v string) {
	if v == "" {
		return
	}
	vals := is.Tags[k]
	if vals == nil {
		if len(is.Tags) >= t.opts.MaxTagKeys {
			return
		}
		vals = map[string]int64{}
		is.Tags[k] = vals
	}
	if _, ok := vals[v]; !ok && len(vals) >= t.opts.MaxTagValues {
		v = "other"
	}
	vals[v]++
}

// shortPrefix is the project name in upper case, the first part of a
// short id ("backend" -> "BACKEND-1A").
func shortPrefix(project string) string {
	if project == "" {
		return "DEFAULT"
	}
	return strings.ToUpper(project)
}

func (t *Tracker) applyStatus(is *issue, c StatusChange) {
	t.statuses.move(is.Status, c.Status)
	is.Status = c.Status
	is.InNextRelease, is.IgnoreUntil = false, 0
	switch c.Status {
	case StatusResolved:
		is.InNextRelease = c.InNextRelease
		is.ResolvedRelease = is.LastRelease
	case StatusIgnored:
		if c.IgnoreCount > 0 {
			is.IgnoreUntil = is.Count + c.IgnoreCount
		}
	case StatusUnresolved:
		is.Regressed = false
	}
}

// SetStatus changes an issue's status (id is its number or short id).
func (t *Tracker) SetStatus(id string, c StatusChange) (IssueView, error) {
	switch c.Status {
	case StatusResolved, StatusUnresolved, StatusIgnored:
	default:
		return IssueView{}, fmt.Errorf("status %q: want unresolved, resolved or ignored", c.Status)
	}
	t.mu.Lock()
	is := t.lookup(id)
	if is == nil {
		t.mu.Unlock()
		return IssueView{}, ErrNotFound
	}
	seq, err := t.write(&journalRecord{Op: "status", Issue: is.ID, Status: &c})
	if err != nil {
		t.mu.Unlock()
		return IssueView{}, err
	}
	t.applyStatus(is, c)
	v, j := is.view(time.Now(), true), t.j
	t.mu.Unlock()
	return v, j.wait(seq)
}

func (t *Tracker) lookup(id string) *issue {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		return t.byID[n]
	}
	return t.bySID[strings.ToUpper(id)]
}

// Compact writes the whole state to a new snapshot and starts a new journal.
func (t *Tracker) Compact() error { return t.compact(true) }

// compact compacts, unless force is false and the journal is under
// Options.CompactBytes: many writers see a big journal at once, and one
// compaction is enough for all of them.
func (t *Tracker) compact(force bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !force && t.j.size <= t.opts.CompactBytes {
		return nil
	}
	s := snapshot{Gen: t.gen + 1, NextID: t.nextID, Projects: t.projects, Issues: make([]*issue, 0, len(t.byID))}
	for _, is := range t.byID {
		s.Issues = append(s.Issues, is)
	}
	data, err := json.Marshal(&s)
	if err != nil {
		return fmt.Errorf("encode issues snapshot: %w", err)
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(t.opts.Dir, snapshotFile), data); err != nil {
		return fmt.Errorf("write issues snapshot: %w", err)
	}
	j, err := openJournal(t.opts.Dir, s.Gen, func([]byte) error { return nil })
	if err != nil {
		return err
	}
	j.noSync = t.opts.NoSync
	old := t.j
	t.j, t.gen = j, s.Gen
	// Writers that appended to the old journal wait on it; its records are
	// in the snapshot, which is synced, so sync and close it for them.
	old.flush()
	old.f.Close()
	os.Remove(old.f.Name())
	return nil
}
