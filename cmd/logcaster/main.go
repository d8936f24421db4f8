// Command logcaster is the LogCaster log platform in one binary: the server
// (serve) and its command-line clients (send, query, bench).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

const usage = `logcaster: a log platform in one binary

Usage:
  logcaster serve [flags]          run the server (HTTP :8080, TCP lines :9999, data in ./data)
  logcaster send [flags] [FILE...] ship files or stdin to a server, acknowledged
  logcaster query [flags] 'QUERY'  search a server
  logcaster tail [flags] 'QUERY'   follow matching events live (resumes by itself; --since 5m for history)
  logcaster bench [flags]          measure ingest and query speed against a server
  logcaster issues [flags] [ID]    list grouped errors (issues) of a server, or show one
  logcaster project create NAME    create a Sentry project and print its DSN (--server URL)
  logcaster snapshot [--server URL] make an instant, consistent backup of a server's store (hard links)
  logcaster version                print the version

Run 'logcaster COMMAND -h' for a command's flags.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "serve":
		err = runServe(args)
	case "send":
		err = runSend(args)
	case "query":
		err = runQuery(args)
	case "tail":
		err = runTail(args)
	case "bench":
		err = runBench(args)
	case "issues":
		err = runIssues(args)
	case "project":
		err = runProject(args)
	case "snapshot":
		err = runSnapshot(args)
	case "version", "--version", "-version":
		fmt.Println("logcaster", version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "logcaster: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "logcaster %s: %v\n", cmd, err)
		os.Exit(1)
	}
}
