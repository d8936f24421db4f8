package issues

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/logcaster/logcaster/internal/httpjson"
	"github.com/logcaster/logcaster/internal/query"
	"github.com/logcaster/logcaster/internal/store"
)

// Routes of the issue API, for the server's mux.
const (
	RouteList     = "GET /api/v1/issues"
	RouteGet      = "GET /api/v1/issues/{id}"
	RoutePatch    = "PATCH /api/v1/issues/{id}"
	RouteEvents   = "GET /api/v1/issues/{id}/events"
	RouteLogs     = "GET /api/v1/issues/{id}/events/{event_id}/logs"
	RouteProjects = "GET /api/v1/projects"
	RouteCreate   = "POST /api/v1/projects"
)

// maxTraceLogs bounds the request logs returned for one event.
const maxTraceLogs = 1000

// API serves the issue routes.
type API struct {
	T     *Tracker
	Store store.Scanner // for the logs of an event's trace; nil: 501
	// PublicURL builds DSNs ("http://host:8080"); "" uses the request's Host.
	PublicURL string
}

// Register adds every route to mux.
func (a *API) Register(handle func(pattern string, h http.Handler)) {
	handle(RouteList, http.HandlerFunc(a.list))
	handle(RouteGet, http.HandlerFunc(a.get))
	handle(RoutePatch, http.HandlerFunc(a.patch))
	handle(RouteEvents, http.HandlerFunc(a.events))
	handle(RouteLogs, http.HandlerFunc(a.logs))
	handle(RouteProjects, http.HandlerFunc(a.projects))
	handle(RouteCreate, http.HandlerFunc(a.create))
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	views, total, err := a.T.List(ListOptions{Status: q.Get("status"), Project: q.Get("project"), Query: q.Get("q"), Sort: q.Get("sort"), Limit: limit})
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"issues": views, "total": total})
}

func (a *API) get(w http.ResponseWriter, r *http.Request) {
	v, err := a.T.Get(r.PathValue("id"))
	if err != nil {
		httpjson.Error(w, http.StatusNotFound, "no such issue")
		return
	}
	httpjson.Write(w, http.StatusOK, v)
}

func (a *API) patch(w http.ResponseWriter, r *http.Request) {
	var c StatusChange
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&c); err != nil {
		httpjson.Error(w, http.StatusBadRequest, "decode body: "+err.Error())
		return
	}
	v, err := a.T.SetStatus(r.PathValue("id"), c)
	switch {
	case errors.Is(err, ErrNotFound):
		httpjson.Error(w, http.StatusNotFound, "no such issue")
	case err != nil && strings.HasPrefix(err.Error(), "status "):
		httpjson.Error(w, http.StatusBadRequest, err.Error())
	case err != nil:
		httpjson.Error(w, http.StatusInternalServerError, err.Error())
	default:
		httpjson.Write(w, http.StatusOK, v)
	}
}

func (a *API) events(w http.ResponseWriter, r *http.Request) {
	evs, err := a.T.Events(r.PathValue("id"))
	if err != nil {
		httpjson.Error(w, http.StatusNotFound, "no such issue")
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"events": evs})
}

// logs answers the request logs of an event's trace, newest first:
// {"trace_id": "...", "logs": [event, ...]}.
func (a *API) logs(w http.ResponseWriter, r *http.Request) {
	e, err := a.T.Event(r.PathValue("id"), r.PathValue("event_id"))
	if err != nil {
		httpjson.Error(w, http.StatusNotFound, "no such issue or event")
		return
	}
	if a.Store == nil {
		httpjson.Error(w, http.StatusNotImplemented, "no store to search")
		return
	}
	out := []byte(`{"trace_id":`)
	out = strconv.AppendQuote(out, e.TraceID)
	out = append(out, `,"logs":[`...)
	if e.TraceID != "" {
		q, err := query.Parse("trace_id:" + strconv.Quote(e.TraceID))
		if err != nil {
			httpjson.Error(w, http.StatusBadRequest, "trace id query: "+err.Error())
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		n := 0
		err = q.Run(ctx, a.Store, query.RunOptions{Limit: maxTraceLogs}, func(row *query.Row) error {
			if n > 0 {
				out = append(out, ',')
			}
			n++
			out = query.AppendNDJSON(out, row)
			if out[len(out)-1] == '\n' {
				out = out[:len(out)-1]
			}
			return nil
		})
		if err != nil {
			httpjson.Error(w, http.StatusInternalServerError, "search trace logs: "+err.Error())
			return
		}
	}
	out = append(out, "]}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
}

func (a *API) projects(w http.ResponseWriter, r *http.Request) {
	var out []map[string]any
	for _, p := range a.T.Projects() {
		if p.Key != "" {
			out = append(out, map[string]any{"name": p.Name, "id": p.ID, "key": p.Key, "dsn": a.dsn(r, p)})
		}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"projects": out})
}

func (a *API) create(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
		httpjson.Error(w, http.StatusBadRequest, "decode body: "+err.Error())
		return
	}
	p, err := a.T.CreateProject(body.Name)
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"name": p.Name, "id": p.ID, "key": p.Key, "dsn": a.dsn(r, p)})
}

// dsn is the Sentry DSN of a project: http://KEY@host/ID (a number, which
// every SDK accepts; the name would do for sentry-go only).
func (a *API) dsn(r *http.Request, p Project) string {
	base := a.PublicURL
	if base == "" {
		base = "http://" + r.Host
	}
	scheme, host, ok := strings.Cut(base, "://")
	if !ok {
		scheme, host = "http", base
	}
	return scheme + "://" + p.Key + "@" + strings.TrimSuffix(host, "/") + "/" + strconv.FormatInt(p.ID, 10)
}
