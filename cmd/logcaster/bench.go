package main

import "errors"

// runBench is the logcaster bench subcommand (work in progress).
func runBench(args []string) error {
	return errors.New("bench: not implemented yet")
}
