package devstack

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Worker is a worker process started from its binary.
type Worker struct {
	cmd     *exec.Cmd
	done    chan error
	logPath string
	log     *os.File
}

// StartWorker runs bin with env, appending its output to logPath, and waits
// until its /healthz on httpAddr answers.
func StartWorker(ctx context.Context, bin string, env []string, httpAddr, logPath string) (*Worker, error) {
	return StartWorkerIn(ctx, "", bin, env, httpAddr, logPath)
}

// StartWorkerIn is StartWorker with dir as the working directory (relative
// DATA_DIR and REPORTS_DIR resolve there), as a worker on its own host has.
func StartWorkerIn(ctx context.Context, dir, bin string, env []string, httpAddr, logPath string) (*Worker, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("devstack: worker log: %w", err)
	}
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("devstack: start worker %s: %w (run `make build`)", bin, err)
	}
	w := &Worker{cmd: cmd, done: make(chan error, 1), logPath: logPath, log: logf}
	go func() { w.done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-w.done:
			w.done <- err
			logf.Close()
			return nil, fmt.Errorf("devstack: worker exited at start (%v):\n%s", err, w.Tail(15))
		case <-ctx.Done():
			w.Kill()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := http.Get("http://" + httpAddr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return w, nil
			}
		}
	}
	w.Kill()
	return nil, fmt.Errorf("devstack: worker not healthy on %s within 60s:\n%s", httpAddr, w.Tail(15))
}

// Pid is the worker's process id.
func (w *Worker) Pid() int { return w.cmd.Process.Pid }

// Done yields the exit error once the process ends (and keeps yielding it).
func (w *Worker) Done() <-chan error { return w.done }

// Stop asks the worker to shut down (SIGTERM) and kills it after timeout.
func (w *Worker) Stop(timeout time.Duration) {
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-w.done:
		w.done <- err
	case <-time.After(timeout):
		w.Kill()
		return
	}
	w.log.Close()
}

// Kill ends the worker with SIGKILL: no shutdown, no flush.
func (w *Worker) Kill() {
	_ = w.cmd.Process.Kill()
	err := <-w.done
	w.done <- err
	w.log.Close()
}

// PeakRSS returns the process's peak resident set size (VmHWM) in bytes.
func (w *Worker) PeakRSS() (int64, error) { return w.status("VmHWM") }

// RSS returns the process's resident set size now (VmRSS) in bytes.
func (w *Worker) RSS() (int64, error) { return w.status("VmRSS") }

// RSSParts splits the resident set now into anonymous memory (heaps) and
// file pages (the binary's text and data as touched).
func (w *Worker) RSSParts() (anon, file int64, err error) {
	if anon, err = w.status("RssAnon"); err != nil {
		return 0, 0, err
	}
	file, err = w.status("RssFile")
	return anon, file, err
}

func (w *Worker) status(field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", w.Pid()))
	if err != nil {
		return 0, fmt.Errorf("devstack: read worker status: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err != nil {
				return 0, fmt.Errorf("devstack: parse %q: %w", line, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("devstack: no %s in /proc status", field)
}

// Tail returns the last n lines of the worker's log.
func (w *Worker) Tail(n int) string {
	b, err := os.ReadFile(w.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}
