package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// runSnapshot asks a running server for a snapshot of its store and prints
// where it is.
func runSnapshot(args []string) error {
	fs := flag.NewFlagSet("snapshot", flag.ContinueOnError)
	server := fs.String("server", envOr("LOGCASTER_SERVER", "http://localhost:8080"), "server URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Minute}
	resp, err := client.Post(strings.TrimRight(*server, "/")+"/api/v1/snapshot", "application/json", nil)
	if err != nil {
		return fmt.Errorf("cannot reach server at %s: %w", *server, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct {
		Path   string `json:"path"`
		TookMS int64  `json:"took_ms"`
		Error  string `json:"error"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("server answered %s: %s", resp.Status, body)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("snapshot failed: %s", out.Error)
	}
	fmt.Printf("snapshot %s (%d ms)\n", out.Path, out.TookMS)
	return nil
}
