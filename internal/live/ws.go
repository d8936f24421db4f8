package live

import "net/http"

// RouteWS is the WebSocket endpoint: the same stream as Route, one JSON
// text message an item: {"type":"log","cursor":"<epoch>-<seq>","event":{row}},
// {"type":"dropped","count":N,"unchecked":M,"resume_cursor":...} ("unchecked"
// only when the hub shed events unmatched), and the gap, idle, end
// and heartbeat notices with the SSE data's fields beside "type". Resume
// with ?cursor=.
const RouteWS = "GET /api/v1/tail/ws"

// WebSocket returns the handler of RouteWS.
func (h *Handler) WebSocket() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, true) })
}
