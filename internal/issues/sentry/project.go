package sentry

import "strconv"

// The last path segment of a DSN is the project. The JavaScript and
// Python SDKs (@sentry/node 11 checks /^\d+$/) accept only a numeric
// project id and otherwise switch their transport off without a word, so
// every project has a number and its DSN names it: http://KEY@host:8080/1.
// The project's name works too (http://KEY@host:8080/shop; sentry-go
// takes it).

// project returns the project a request for the path's project with key
// is for, and whether the key opens it: the project of that name, else the
// project of that number.
func (h *Handler) project(path, key string) (string, bool) {
	if h.t.CheckKey(path, key) {
		return path, true
	}
	if key == "" || !isNumber(path) || len(path) > 18 {
		return "", false
	}
	id, _ := strconv.ParseInt(path, 10, 64)
	if p, ok := h.t.ProjectByID(id); ok && p.Key == key {
		return p.Name, true
	}
	return "", false
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
