package query

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/logcaster/logcaster/internal/event"
	"github.com/logcaster/logcaster/internal/httpjson"
)

// CSV export: GET /api/v1/query?...&format=csv answers the same rows as the
// NDJSON default, as RFC 4180 CSV (CRLF line ends; a value with a comma, a
// double quote, CR or LF is quoted, its quotes doubled). The header is the
// union of the rows' fields: timestamp first when rows have one, then the
// built-in fields present (index, level, message, trace_id), then every
// other field in the order it first appears in the rows sent. No row, no
// header: the body is empty.
//
// The header needs every row, so the rows are held until the query ends:
// bounded by the limit (itself capped by HandlerOptions.MaxLimit) and by
// MaxMemoryBytes, past which the answer is 422 as for any query.

// serveCSV answers a query request that asked for format=csv.
func (h *handler) serveCSV(w http.ResponseWriter, r *http.Request) {
	q, ro, ok := h.parseRequest(w, r)
	if !ok {
		return
	}
	ctx, cancel := h.queryContext(r)
	defer cancel()
	var rows []*Row
	var held int64
	hasTime := false
	cols := map[string]int{}
	var names []string
	err := q.Run(ctx, h.sc, ro, func(row *Row) error {
		held += rowBytes(row)
		if h.opts.MaxMemoryBytes > 0 && held > h.opts.MaxMemoryBytes {
			return &MemoryLimitError{Limit: h.opts.MaxMemoryBytes}
		}
		hasTime = hasTime || row.HasTime
		for _, f := range row.Fields {
			if _, ok := cols[f.Name]; !ok && f.Value != "" {
				cols[f.Name] = len(names)
				names = append(names, f.Name)
			}
		}
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		msg, status := err.Error(), http.StatusInternalServerError
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			msg, status = "query timed out after "+h.opts.Timeout.String(), http.StatusGatewayTimeout
		case errors.Is(err, ErrMemoryLimit):
			status = http.StatusUnprocessableEntity
		case errors.Is(err, context.Canceled):
			return
		}
		httpjson.Error(w, status, msg)
		return
	}
	// Built-in fields lead, whatever row brought them first.
	names = slices.DeleteFunc(names, func(n string) bool { return slices.Contains(builtinOrder[:], n) })
	for i := len(builtinOrder) - 1; i >= 0; i-- {
		if _, ok := cols[builtinOrder[i]]; ok {
			names = slices.Insert(names, 0, builtinOrder[i])
		}
	}
	for i, n := range names {
		cols[n] = i
	}
	if len(rows) == 0 {
		// Nothing matched: an empty file (there are no columns to name).
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="logcaster.csv"`)
		w.WriteHeader(http.StatusOK)
		return
	}
	// A stats row may carry its own "timestamp" field; the time column
	// then is that field, not a second one.
	timeCol := hasTime
	if _, ok := cols[event.FieldTime]; ok {
		timeCol = false
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="logcaster.csv"`)
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	var buf []byte
	if timeCol {
		buf = appendCSVField(buf, event.FieldTime)
		if len(names) > 0 {
			buf = append(buf, ',')
		}
	}
	for i, n := range names {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendCSVField(buf, n)
	}
	buf = append(buf, '\r', '\n')
	vals := make([]string, len(names))
	for _, row := range rows {
		clear(vals)
		for _, f := range row.Fields {
			if i, ok := cols[f.Name]; ok && vals[i] == "" {
				vals[i] = f.Value
			}
		}
		if timeCol {
			if row.HasTime {
				buf = appendTime(buf, row.Time)
			}
			if len(names) > 0 {
				buf = append(buf, ',')
			}
		}
		for i, v := range vals {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendCSVField(buf, v)
		}
		buf = append(buf, '\r', '\n')
		if len(buf) >= 32<<10 {
			if _, err := bw.Write(buf); err != nil {
				return
			}
			buf = buf[:0]
		}
	}
	bw.Write(buf)
	bw.Flush()
}

// appendCSVField appends v as one RFC 4180 field: as is, or quoted with
// its quotes doubled when it holds a comma, a quote, CR or LF. A value
// with a leading or trailing space is quoted too, so that spreadsheet
// imports which trim unquoted fields keep it.
func appendCSVField(dst []byte, v string) []byte {
	quote := len(v) > 0 && (v[0] == ' ' || v[len(v)-1] == ' ')
	for i := 0; i < len(v) && !quote; i++ {
		switch v[i] {
		case ',', '"', '\r', '\n':
			quote = true
		}
	}
	if !quote {
		return append(dst, v...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, v[i])
	}
	return append(dst, '"')
}
