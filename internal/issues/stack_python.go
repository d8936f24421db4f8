package issues

import "strings"

// Python chains exceptions with one of these lines between tracebacks.
var pythonChainLines = []string{
	"During handling of the above exception, another exception occurred:",
	"The above exception was the direct cause of the following exception:",
}

// parsePython reads Python tracebacks (chained ones too):
//
//	Traceback (most recent call last):
//	  File "/app/orders/views.py", line 42, in create
//	    order = service.process(data)
//	ValueError: invalid literal for int() with base 10: 'abc'
func parsePython(text string) []Exception {
	var out []Exception
	var cur *Exception
	inTrace := false
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimRight(raw, "\r")
		trim := strings.TrimSpace(line)
		switch {
		case strings.Contains(trim, "Traceback (most recent call last):"):
			out = append(out, Exception{})
			cur = &out[len(out)-1]
			inTrace = true
		case !inTrace || trim == "":
		case strings.HasPrefix(trim, "File \""):
			cur.Frames = append(cur.Frames, parsePythonFrame(trim))
		case line != trim && !strings.HasPrefix(trim, "File "):
			// The source line under a frame, or "^^^^" markers.
		default:
			isChain := false
			for _, c := range pythonChainLines {
				if trim == c {
					isChain = true
				}
			}
			if isChain {
				continue
			}
			if cur.Type == "" {
				cur.Type, cur.Value = splitTypeValue(trim)
				if i := strings.LastIndexByte(cur.Type, '.'); i > 0 {
					cur.Module, cur.Type = cur.Type[:i], cur.Type[i+1:]
				}
			}
			inTrace = false
		}
	}
	// Python prints the original exception first and the one raised last:
	// already Sentry's order.
	return out
}

// parsePythonFrame reads `File "/app/x.py", line 42, in create`.
func parsePythonFrame(s string) Frame {
	s = s[len(`File "`):]
	var f Frame
	if i := strings.IndexByte(s, '"'); i >= 0 {
		f.File, s = s[:i], s[i+1:]
	}
	if i := strings.Index(s, "line "); i >= 0 {
		f.Line = atoiPrefix(s[i+5:])
	}
	if i := strings.Index(s, ", in "); i >= 0 {
		f.Function = strings.TrimSpace(s[i+5:])
	}
	f.Module = pythonModule(f.File)
	f.InApp = !strings.Contains(f.File, "site-packages") && !strings.Contains(f.File, "dist-packages") &&
		!strings.Contains(f.File, "/lib/python") && !strings.HasPrefix(f.File, "<")
	return f
}

// pythonModule turns a file path into a dotted module name, relative to
// site-packages when it is under it: the path to the app differs between
// machines, the module does not.
func pythonModule(file string) string {
	for _, marker := range []string{"site-packages/", "dist-packages/"} {
		if i := strings.LastIndex(file, marker); i >= 0 {
			file = file[i+len(marker):]
		}
	}
	file = strings.TrimSuffix(file, ".py")
	file = strings.TrimPrefix(file, "/")
	if i := strings.LastIndexByte(file, '/'); i >= 0 {
		// Keep the last two path elements: enough to tell modules apart
		// without depending on where the app is installed.
		if j := strings.LastIndexByte(file[:i], '/'); j >= 0 {
			file = file[j+1:]
		}
	}
	return strings.ReplaceAll(file, "/", ".")
}
