package alerts

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/logcaster/logcaster/internal/fsutil"
)

// Rules added through the API are kept in Options.Dir/rules.json:
//
//	{"version": 1, "rules": [Rule, ...]}
//
// in the order they were first added. The file is replaced whole on every
// change (written to rules.json.tmp, fsynced, renamed over rules.json, the
// folder fsynced), so a crash leaves the old list or the new one. Rules of
// the config file are not in it: the config file stays their source.
const (
	savedRulesFile    = "rules.json"
	savedRulesVersion = 1
)

// ErrConfigRule is returned for an attempt to delete a rule that comes from
// the config file (it would come back at the next start).
var ErrConfigRule = errors.New("rule comes from the config file")

// ErrNoRule is returned for deleting a rule that does not exist.
var ErrNoRule = errors.New("no such rule")

type savedRules struct {
	Version int    `json:"version"`
	Rules   []Rule `json:"rules"`
}

// loadSaved adds the rules of rules.json after the config file's (a saved
// rule replaces a config rule of its name). A file that cannot be read
// as rules is moved aside and reported, so a damaged file costs its rules
// and not the server's start.
func (e *Engine) loadSaved() {
	if e.opts.Dir == "" {
		return
	}
	path := filepath.Join(e.opts.Dir, savedRulesFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	var s savedRules
	if err == nil {
		err = json.Unmarshal(data, &s)
		if err == nil && s.Version != savedRulesVersion {
			err = fmt.Errorf("version %d, want %d", s.Version, savedRulesVersion)
		}
	}
	if err != nil {
		aside := path + ".damaged-" + strconv.FormatInt(time.Now().Unix(), 10)
		e.log.Error("alerts: saved rules unreadable, moved aside", "file", path, "to", aside, "err", err)
		os.Rename(path, aside)
		return
	}
	for _, r := range s.Rules {
		if err := e.addRule(r, true); err != nil {
			e.log.Error("alerts: saved rule no longer valid, skipped", "rule", r.Name, "err", err)
		}
	}
}

// saveLocked writes the API rules, as they would be with next applied, to
// rules.json; e.saveMu is held, e.mu is not. next is nil for a deletion of
// drop.
func (e *Engine) saveLocked(next *Rule, drop string) error {
	if e.opts.Dir == "" {
		return nil
	}
	e.mu.Lock()
	s := savedRules{Version: savedRulesVersion, Rules: []Rule{}}
	replaced := false
	for _, r := range e.rules {
		if !e.fromAPI[r.Name] || r.Name == drop {
			continue
		}
		if next != nil && r.Name == next.Name {
			s.Rules = append(s.Rules, *next)
			replaced = true
			continue
		}
		s.Rules = append(s.Rules, *r)
	}
	e.mu.Unlock()
	if next != nil && !replaced {
		s.Rules = append(s.Rules, *next)
	}
	data, err := json.MarshalIndent(&s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode alert rules: %w", err)
	}
	if err := os.MkdirAll(e.opts.Dir, 0o755); err != nil {
		return fmt.Errorf("create alerts dir: %w", err)
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(e.opts.Dir, savedRulesFile), append(data, '\n')); err != nil {
		return fmt.Errorf("save alert rules: %w", err)
	}
	return nil
}

// SaveRule adds (or replaces, by name) a rule as the API does: it is
// written to Options.Dir before it takes effect, and comes back at the
// next start.
func (e *Engine) SaveRule(r Rule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	e.saveMu.Lock()
	defer e.saveMu.Unlock()
	if err := e.saveLocked(&r, ""); err != nil {
		return err
	}
	return e.addRule(r, true)
}

// DeleteRule removes a rule added through the API, on disk and then in
// memory. Rules of the config file give ErrConfigRule.
func (e *Engine) DeleteRule(name string) error {
	e.saveMu.Lock()
	defer e.saveMu.Unlock()
	e.mu.Lock()
	found, api := false, e.fromAPI[name]
	for _, r := range e.rules {
		found = found || r.Name == name
	}
	e.mu.Unlock()
	switch {
	case !found:
		return ErrNoRule
	case !api:
		return ErrConfigRule
	}
	if err := e.saveLocked(nil, name); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, r := range e.rules {
		if r.Name == name {
			e.rules = append(e.rules[:i], e.rules[i+1:]...)
			break
		}
	}
	delete(e.fromAPI, name)
	delete(e.firing, name)
	return nil
}
