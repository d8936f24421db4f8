package sentry

// The last path segment of a DSN is the project. LogCaster names its
// projects (http://KEY@host:8080/shop), and sentry-go takes that, but the
// JavaScript SDKs (@sentry/node 11 checks /^\d+$/) accept only a numeric
// project id and otherwise switch their transport off without a word. So a
// DSN whose project is a number works too: http://KEY@host:8080/1 reaches
// the project the key belongs to (a key is 128 random bits, one project's).

// project returns the project a request for the path's project with key
// is for, and whether the key opens it: the project of that name, else,
// when the path's project is a number, the project whose key it is.
func (h *Handler) project(path, key string) (string, bool) {
	if h.t.CheckKey(path, key) {
		return path, true
	}
	if key == "" || !isNumber(path) {
		return "", false
	}
	for _, p := range h.t.Projects() {
		if p.Key == key {
			return p.Name, true
		}
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
