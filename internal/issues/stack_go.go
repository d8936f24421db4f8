package issues

import "strings"

// parseGoPanic reads the panic message and the panicking goroutine's stack:
//
//	panic: runtime error: index out of range [5] with length 3
//
//	goroutine 1 [running]:
//	main.lookup(...)
//		/app/main.go:12 +0x1d
//	main.main()
//		/app/main.go:8 +0x25
func parseGoPanic(text string) []Exception {
	lines := strings.Split(text, "\n")
	ex := Exception{Type: "panic"}
	i := 0
	for ; i < len(lines); i++ {
		if j := strings.Index(lines[i], "panic: "); j >= 0 {
			ex.Value = strings.TrimSpace(lines[i][j+len("panic: "):])
			ex.Value = strings.TrimSuffix(ex.Value, " [recovered]")
			if strings.HasPrefix(ex.Value, "runtime error: ") {
				ex.Type = "runtime error"
				ex.Value = ex.Value[len("runtime error: "):]
			}
			break
		}
	}
	for ; i < len(lines); i++ {
		if strings.HasPrefix(strings.TrimSpace(lines[i]), "goroutine ") {
			i++
			break
		}
	}
	for ; i+1 < len(lines); i++ {
		fn := strings.TrimSpace(lines[i])
		if fn == "" || strings.HasPrefix(fn, "goroutine ") {
			break // only the panicking goroutine
		}
		if strings.HasPrefix(fn, "created by ") || !strings.HasPrefix(lines[i+1], "\t") {
			continue
		}
		loc := strings.TrimSpace(lines[i+1])
		i++
		f := goFrame(fn)
		if sp := strings.IndexByte(loc, ' '); sp > 0 {
			loc = loc[:sp]
		}
		if c := strings.LastIndexByte(loc, ':'); c > 0 {
			f.File, f.Line = loc[:c], atoiPrefix(loc[c+1:])
		}
		ex.Frames = append(ex.Frames, f)
	}
	reverseFrames(ex.Frames)
	return []Exception{ex}
}

// goFrame splits "github.com/acme/api/store.(*DB).Get(0xc000, ...)" into
// its package and function, and tells whether it is the application's.
func goFrame(s string) Frame {
	if i := strings.LastIndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") {
		// Drop the argument list; "(*DB)" inside the name is kept because
		// the argument list is the last parenthesis.
		s = s[:i]
	}
	var f Frame
	slash := strings.LastIndexByte(s, '/')
	if dot := strings.IndexByte(s[slash+1:], '.'); dot >= 0 {
		f.Module, f.Function = s[:slash+1+dot], s[slash+1+dot+1:]
	} else {
		f.Function = s
	}
	first := f.Module
	if i := strings.IndexByte(first, '/'); i >= 0 {
		first = first[:i]
	}
	// The standard library's import paths have no dot in their first
	// element; main and module paths (github.com/...) are the app's.
	f.InApp = f.Module == "main" || strings.Contains(first, ".")
	return f
}
