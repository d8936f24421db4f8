package alerts

import (
	"encoding/json"
	"io"
	"net/http"
)

// Routes of the alerts API.
const (
	RouteRulesGet  = "GET /api/v1/alerts/rules"
	RouteRulesPost = "POST /api/v1/alerts/rules"
	RouteHistory   = "GET /api/v1/alerts/history"
)

// maxRuleBody bounds a POSTed rule.
const maxRuleBody = 1 << 20

// Register adds the alerts routes through handle (server.Server.Handle).
func (e *Engine) Register(handle func(pattern string, h http.Handler)) {
	handle(RouteRulesGet, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"rules": e.Rules()})
	}))
	handle(RouteRulesPost, http.HandlerFunc(e.postRule))
	handle(RouteHistory, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"deliveries": e.History(), "dropped_changes": e.Dropped()})
	}))
}

// postRule adds (or replaces, by name) one rule given as JSON.
func (e *Engine) postRule(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRuleBody+1))
	if err != nil || len(body) > maxRuleBody {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "read rule: body missing or over 1 MiB"})
		return
	}
	var rule Rule
	if err := json.Unmarshal(body, &rule); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "decode rule: " + err.Error()})
		return
	}
	if err := e.AddRule(rule); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusCreated, rule)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
