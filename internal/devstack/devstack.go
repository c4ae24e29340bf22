// Package devstack starts the local stack's real parts: the Temporal CLI dev
// server (pinned v1.5.1, built into bin/) and an in-process Kafka-protocol
// broker (kfake) whose log persists under a data directory. `make demo` and
// the end-to-end tests both use it.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// TemporalCLIVersion is the pinned CLI (Temporal Server 1.29.1, UI 2.42.1).
const TemporalCLIVersion = "v1.5.1"

// Broker is an in-process Kafka-protocol broker listening on 127.0.0.1.
type Broker struct {
	c    *kfake.Cluster
	Addr string
}

// StartBroker starts a broker on port (0 = a free port) with topic created
// with the given partitions. With dataDir, its log and offsets persist there
// and are reloaded on the next start.
func StartBroker(port int, dataDir, topic string, partitions int32) (*Broker, error) {
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, topic), kfake.DefaultNumPartitions(int(partitions))}
	if port != 0 {
		opts = append(opts, kfake.Ports(port))
	}
	if dataDir != "" {
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return nil, fmt.Errorf("devstack: broker data dir: %w", err)
		}
		opts = append(opts, kfake.DataDir(dataDir))
	}
	// A cluster id of its own (kfake's default is the same for every
	// cluster), so workers can tell two brokers apart; a broker restarted on
	// the same DataDir reloads the id it persisted.
	opts = append(opts, kfake.ClusterID("dropflow-"+uuid.NewString()))
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("devstack: start Kafka-protocol broker on 127.0.0.1:%d: %w", port, err)
	}
	addrs := c.ListenAddrs()
	if len(addrs) == 0 {
		c.Close()
		return nil, errors.New("devstack: broker started without a listen address")
	}
	return &Broker{c: c, Addr: addrs[0]}, nil
}

// Close stops the broker, flushing its log to the data directory.
func (b *Broker) Close() { b.c.Close() }

// TemporalOptions configures the dev server.
type TemporalOptions struct {
	CLIPath  string // path of the temporal binary
	HostPort string // e.g. 127.0.0.1:7233; empty picks a free port
	UIPort   int    // 0 disables the UI
	DBFile   string // SQLite file that keeps state; empty = in memory
	Output   io.Writer
	// SearchAttributes to register (the Web UI filters on them).
	SearchAttributes temporal.SearchAttributes
	// Logger of the SDK client used while starting; nil = the SDK default.
	Logger log.Logger
	// DynamicConfig holds extra server settings ("key=value"), e.g. a low
	// limit.historyCount.suggestContinueAsNew for tests.
	DynamicConfig []string
	// Namespaces to create besides "default".
	Namespaces []string
}

// StartTemporal starts `temporal server start-dev` and waits until it serves.
func StartTemporal(ctx context.Context, o TemporalOptions) (*testsuite.DevServer, error) {
	if _, err := os.Stat(o.CLIPath); err != nil {
		return nil, fmt.Errorf("devstack: Temporal CLI not found at %s (run `make bin/temporal` to build %s): %w", o.CLIPath, TemporalCLIVersion, err)
	}
	opts := testsuite.DevServerOptions{
		ExistingPath:     o.CLIPath,
		ClientOptions:    &client.Options{HostPort: o.HostPort, Namespace: "default", Logger: o.Logger},
		DBFilename:       o.DBFile,
		LogLevel:         "error",
		SearchAttributes: o.SearchAttributes,
		Stdout:           o.Output,
		Stderr:           o.Output,
		ExtraArgs:        []string{"--dynamic-config-value", "frontend.enableUpdateWorkflowExecution=true"},
	}
	for _, kv := range o.DynamicConfig {
		opts.ExtraArgs = append(opts.ExtraArgs, "--dynamic-config-value", kv)
	}
	for _, ns := range o.Namespaces {
		opts.ExtraArgs = append(opts.ExtraArgs, "--namespace", ns)
	}
	if o.UIPort != 0 {
		opts.EnableUI = true
		opts.UIPort = strconv.Itoa(o.UIPort)
	}
	if o.DBFile != "" {
		if err := os.MkdirAll(filepath.Dir(o.DBFile), 0o755); err != nil {
			return nil, fmt.Errorf("devstack: temporal data dir: %w", err)
		}
	}
	srv, err := testsuite.StartDevServer(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("devstack: start Temporal dev server on %s: %w", o.HostPort, err)
	}
	return srv, nil
}

// FreePort returns a TCP port free on 127.0.0.1 at the time of the call.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("devstack: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Reachable reports whether something accepts TCP connections at addr.
func Reachable(addr string, timeout time.Duration) bool {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// ModuleRoot walks up from dir to the directory holding go.mod.
func ModuleRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("devstack: no go.mod above %s", dir)
		}
		d = parent
	}
}

// TemporalCLI returns $TEMPORAL_CLI, or bin/temporal under the module root.
func TemporalCLI() (string, error) {
	if p := os.Getenv("TEMPORAL_CLI"); p != "" {
		return p, nil
	}
	root, err := ModuleRoot(".")
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "bin", "temporal"), nil
}
