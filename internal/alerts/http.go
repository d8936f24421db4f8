package alerts

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/logcaster/logcaster/internal/httpjson"
)

// Routes of the alerts API.
const (
	RouteRulesGet  = "GET /api/v1/alerts/rules"
	RouteRulesPost = "POST /api/v1/alerts/rules"
	RouteRuleDel   = "DELETE /api/v1/alerts/rules/{name}"
	RouteHistory   = "GET /api/v1/alerts/history"
)

// maxRuleBody bounds a POSTed rule.
const maxRuleBody = 1 << 20

// Register adds the alerts routes through handle (server.Server.Handle).
func (e *Engine) Register(handle func(pattern string, h http.Handler)) {
	handle(RouteRulesGet, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]any{"rules": e.Rules()})
	}))
	handle(RouteRulesPost, http.HandlerFunc(e.postRule))
	handle(RouteRuleDel, http.HandlerFunc(e.deleteRule))
	handle(RouteHistory, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]any{"deliveries": e.History(), "dropped_changes": e.Dropped()})
	}))
}

// postRule adds (or replaces, by name) one rule given as JSON, durably
// (SaveRule): 201 with the rule once it is on disk.
func (e *Engine) postRule(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRuleBody+1))
	if err != nil || len(body) > maxRuleBody {
		httpjson.Write(w, http.StatusBadRequest, map[string]string{"error": "read rule: body missing or over 1 MiB"})
		return
	}
	var rule Rule
	if err := json.Unmarshal(body, &rule); err != nil {
		httpjson.Write(w, http.StatusBadRequest, map[string]string{"error": "decode rule: " + err.Error()})
		return
	}
	if err := rule.Validate(); err != nil {
		httpjson.Write(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	if err := e.SaveRule(rule); err != nil {
		httpjson.Write(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	httpjson.Write(w, http.StatusCreated, rule)
}

// deleteRule removes a rule added through the API: 204, 404 for an unknown
// name, 409 for a rule of the config file.
func (e *Engine) deleteRule(w http.ResponseWriter, r *http.Request) {
	err := e.DeleteRule(r.PathValue("name"))
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, ErrNoRule):
		httpjson.Write(w, http.StatusNotFound, map[string]string{"error": err.Error()})
	case errors.Is(err, ErrConfigRule):
		httpjson.Write(w, http.StatusConflict, map[string]string{"error": err.Error() + "; remove it there"})
	default:
		httpjson.Write(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	}
}
