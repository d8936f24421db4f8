package issues

import "strings"

// ParseStackTrace finds a stack trace in log text (a logback stack_trace
// field, or a message that holds a Python traceback, a Go panic or a
// Node.js error) and returns its exceptions in Sentry's order: a chained
// cause first, the exception that was raised last, each with its frames
// innermost last. It returns nil when text holds no trace it knows.
func ParseStackTrace(text string) []Exception {
	switch {
	case strings.Contains(text, "Traceback (most recent call last):"):
		return parsePython(text)
	case strings.Contains(text, "goroutine ") && strings.Contains(text, "panic: "):
		return parseGoPanic(text)
	}
	// Java and Node both print "at ..." lines; Java's end in
	// "(File.java:12)", "(Native Method)" or "(Unknown Source)", Node's in
	// "file:line:col" with or without parentheses.
	for _, line := range strings.Split(text, "\n") {
		l := strings.TrimSpace(line)
		if !strings.HasPrefix(l, "at ") {
			continue
		}
		if isNodeFrame(l) {
			return parseNode(text)
		}
		return parseJava(text)
	}
	return nil
}

// splitTypeValue splits "pkg.Type: message" into its type and value; a
// line without ": " is a type alone if it looks like one.
func splitTypeValue(line string) (typ, value string) {
	line = strings.TrimSpace(line)
	if i := strings.Index(line, ": "); i > 0 && !strings.ContainsAny(line[:i], " \t") {
		return line[:i], strings.TrimSpace(line[i+2:])
	}
	if line != "" && !strings.ContainsAny(line, " \t") {
		return line, ""
	}
	return "", line
}

func reverseFrames(f []Frame) {
	for i, j := 0, len(f)-1; i < j; i, j = i+1, j-1 {
		f[i], f[j] = f[j], f[i]
	}
}

func reverseExceptions(e []Exception) {
	for i, j := 0, len(e)-1; i < j; i, j = i+1, j-1 {
		e[i], e[j] = e[j], e[i]
	}
}

// atoiPrefix reads the decimal number at the start of s (0 if none).
func atoiPrefix(s string) int {
	n := 0
	for i := 0; i < len(s) && i < 9 && '0' <= s[i] && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
