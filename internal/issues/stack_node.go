package issues

import "strings"

// isNodeFrame tells a V8 frame ("at fn (/app/x.js:10:15)", "at
// /app/x.js:5:3") from a Java one ("at a.B.c(B.java:12)"): V8 puts a line
// and a column after the file.
func isNodeFrame(line string) bool {
	loc := strings.TrimSuffix(line, ")")
	c2 := strings.LastIndexByte(loc, ':')
	if c2 < 0 || atoiPrefix(loc[c2+1:]) == 0 {
		return false
	}
	c1 := strings.LastIndexByte(loc[:c2], ':')
	return c1 >= 0 && atoiPrefix(loc[c1+1:]) > 0
}

// parseNode reads a V8 stack (error.stack):
//
//	TypeError: Cannot read properties of undefined (reading 'id')
//	    at getUser (/app/src/users.js:10:15)
//	    at async Router.handle (/app/node_modules/express/lib/router/index.js:284:7)
func parseNode(text string) []Exception {
	var ex Exception
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "at ") {
			ex.Frames = append(ex.Frames, nodeFrame(line[3:]))
			continue
		}
		if ex.Type == "" && len(ex.Frames) == 0 && line != "" {
			if t, v := splitTypeValue(line); t != "" {
				ex.Type, ex.Value = t, v
			}
		}
	}
	reverseFrames(ex.Frames)
	return []Exception{ex}
}

func nodeFrame(s string) Frame {
	s = strings.TrimPrefix(s, "async ")
	var f Frame
	loc := s
	if i := strings.LastIndex(s, " ("); i >= 0 && strings.HasSuffix(s, ")") {
		f.Function, loc = s[:i], s[i+2:len(s)-1]
	}
	if c2 := strings.LastIndexByte(loc, ':'); c2 > 0 {
		if c1 := strings.LastIndexByte(loc[:c2], ':'); c1 > 0 {
			f.File, f.Line = loc[:c1], atoiPrefix(loc[c1+1:])
		}
	}
	f.File = strings.TrimPrefix(f.File, "file://")
	f.Module = nodeModule(f.File)
	f.InApp = !strings.Contains(f.File, "node_modules") && !strings.HasPrefix(f.File, "node:") &&
		!strings.HasPrefix(f.File, "internal/") && f.File != ""
	return f
}

// nodeModule names a file the way Sentry's Node SDK does: the path under
// node_modules, or the file name without its extension.
func nodeModule(file string) string {
	file = strings.TrimPrefix(file, "node:")
	if i := strings.LastIndex(file, "node_modules/"); i >= 0 {
		file = file[i+len("node_modules/"):]
	} else if i := strings.LastIndexByte(file, '/'); i >= 0 {
		file = file[i+1:]
	}
	for _, ext := range []string{".js", ".mjs", ".cjs", ".ts"} {
		file = strings.TrimSuffix(file, ext)
	}
	return file
}
