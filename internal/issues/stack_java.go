package issues

import "strings"

// javaLibraryPrefixes are packages whose frames are not the application's
// own (not "in app"): the JDK and the frameworks most services run on.
var javaLibraryPrefixes = []string{
	"java.", "javax.", "jdk.", "sun.", "com.sun.", "kotlin.", "kotlinx.", "scala.",
	"org.springframework.", "org.apache.", "org.hibernate.", "io.netty.", "reactor.",
	"org.eclipse.jetty.", "io.undertow.", "com.fasterxml.", "ch.qos.logback.", "org.slf4j.",
	"com.zaxxer.", "org.postgresql.", "com.mysql.", "io.grpc.", "okhttp3.", "feign.",
}

// parseJava reads a Java stack trace as Throwable.printStackTrace (and
// logback's stack_trace) writes it:
//
//	com.acme.PaymentException: card declined
//		at com.acme.pay.Service.charge(Service.java:42)
//		...
//	Caused by: java.net.SocketTimeoutException: Read timed out
//		at java.net.SocketInputStream.read(SocketInputStream.java:150)
//		... 12 common frames omitted
func parseJava(text string) []Exception {
	var out []Exception // outermost first while reading
	var cur *Exception
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		switch {
		case line == "":
		case strings.HasPrefix(line, "at "):
			if cur == nil {
				out = append(out, Exception{})
				cur = &out[len(out)-1]
			}
			if f, ok := parseJavaFrame(line[3:]); ok {
				cur.Frames = append(cur.Frames, f)
			}
		case strings.HasPrefix(line, "..."):
		case strings.HasPrefix(line, "Caused by: "):
			t, v := splitTypeValue(line[len("Caused by: "):])
			out = append(out, Exception{Type: t, Value: v})
			cur = &out[len(out)-1]
		case strings.HasPrefix(line, "Suppressed: "):
			cur = &Exception{} // frames of a suppressed exception are not the cause chain
		default:
			if cur == nil || len(cur.Frames) == 0 && cur.Type == "" {
				t, v := splitTypeValue(line)
				if t == "" {
					continue // log text before the trace
				}
				if cur == nil {
					out = append(out, Exception{})
					cur = &out[len(out)-1]
				}
				cur.Type, cur.Value = t, v
			} else if len(cur.Frames) == 0 {
				cur.Value += "\n" + line // a multi-line message
			}
		}
	}
	for i := range out {
		reverseFrames(out[i].Frames)
		if j := strings.LastIndexByte(out[i].Type, '.'); j > 0 {
			out[i].Module = out[i].Type[:j]
		}
	}
	reverseExceptions(out) // root cause first, as Sentry orders a chain
	return out
}

// parseJavaFrame reads "com.acme.pay.Service.charge(Service.java:42)".
func parseJavaFrame(s string) (Frame, bool) {
	open := strings.IndexByte(s, '(')
	if open < 0 {
		return Frame{}, false
	}
	name, loc := s[:open], strings.TrimSuffix(s[open+1:], ")")
	// Java 9+ may prefix a module: "java.base/java.lang.Thread.run".
	if i := strings.IndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	f := Frame{Function: name}
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		f.Module, f.Function = name[:i], name[i+1:]
	}
	if i := strings.LastIndexByte(loc, ':'); i > 0 {
		f.File, f.Line = loc[:i], atoiPrefix(loc[i+1:])
	} else {
		f.File = loc
	}
	f.InApp = true
	for _, p := range javaLibraryPrefixes {
		if strings.HasPrefix(f.Module, p) {
			f.InApp = false
			break
		}
	}
	return f, true
}
