package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dropflow/dropflow/internal/devstack"
	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

type csvOrder struct {
	id, customer, product string
	qty                   int
	cents                 int64
	sold                  time.Time
}

func readOrders(t *testing.T, dir string) ([]csvOrder, map[string]string) {
	t.Helper()
	rows := func(name string) [][]string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		r, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return r[1:]
	}
	products := map[string]string{}
	for _, r := range rows("inventory.csv") {
		products[r[0]] = r[1]
	}
	var out []csvOrder
	for _, r := range rows("orders.csv") {
		q, _ := strconv.Atoi(r[3])
		whole, frac, _ := strings.Cut(r[4], ".")
		w, _ := strconv.ParseInt(whole, 10, 64)
		f, _ := strconv.ParseInt(frac, 10, 64)
		sold, _ := time.Parse(time.RFC3339, r[6])
		out = append(out, csvOrder{id: r[0], customer: r[1], product: r[2], qty: q, cents: w*100 + f, sold: sold})
	}
	return out, products
}

// expected computes the KPI cards from orders.csv, as the page formats them.
func expected(orders []csvOrder, from time.Time) (count, revenue, customers, productsN string) {
	n, cents := 0, int64(0)
	cs, ps := map[string]bool{}, map[string]bool{}
	for _, o := range orders {
		if o.sold.Before(from) {
			continue
		}
		n++
		cents += int64(o.qty) * o.cents
		cs[o.customer], ps[o.product] = true, true
	}
	return group(strconv.Itoa(n)), group(strconv.FormatInt(cents/100, 10)) + "." + pad2(cents%100), group(strconv.Itoa(len(cs))), group(strconv.Itoa(len(ps)))
}

func pad2(v int64) string { return strconv.FormatInt(100+v, 10)[1:] }

func group(s string) string {
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// TestDashboardInABrowser runs the pipeline, opens the dashboard in headless
// Chromium, and checks what a person sees against orders.csv.
func TestDashboardInABrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: install Debian's chromium package (.ci/run does)")
	}
	s := newStack(t)
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var res params.PipelineResult
	if err := execute(t, s.client, "dash-pipeline", names.Pipeline, params.PipelineInput{}).Get(ctx, &res); err != nil {
		t.Fatalf("pipeline: %v\n%s", err, s.logs())
	}

	// A live scrape passes promtool and carries Dropflow's and the SDK's series.
	resp, err := http.Get("http://" + s.httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	scrape, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	pt, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install Debian's prometheus package (.ci/run does)")
	}
	lint := exec.Command(pt, "check", "metrics")
	lint.Stdin = bytes.NewReader(scrape)
	if out, err := lint.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics on a live scrape: %v\n%s", err, out)
	}
	for _, series := range []string{"dropflow_events_ingested_total 5000", "dropflow_events_produced_total 5000", "dropflow_validation_check_status{check=\"raw_duplicate_event_ids\"} 0", "dropflow_freshness_ingested_seconds_bucket", "temporal_"} {
		if !bytes.Contains(scrape, []byte(series)) {
			t.Fatalf("scrape lacks %q", series)
		}
	}

	orders, productNames := readOrders(t, filepath.Join(s.dir, "data", "seed"))
	// Top product by revenue and the newest order, from the CSV.
	rev := map[string]int64{}
	for _, o := range orders {
		rev[o.product] += int64(o.qty) * o.cents
	}
	var top string
	for p, v := range rev {
		if top == "" || v > rev[top] || v == rev[top] && p < top {
			top = p
		}
	}
	sort.Slice(orders, func(i, j int) bool {
		if !orders[i].sold.Equal(orders[j].sold) {
			return orders[i].sold.After(orders[j].sold)
		}
		a, _ := strconv.Atoi(orders[i].id)
		b, _ := strconv.Atoi(orders[j].id)
		return a > b
	})

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1800))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(v)
	}
	cards := func(want string) map[string]string {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.WaitVisible(chromedp.CSS(`body[data-loaded-range="`+want+`"]`))); err != nil {
			t.Fatalf("page did not load range %s: %v", want, err)
		}
		got := map[string]string{}
		for _, id := range []string{"kpi-orders", "kpi-revenue", "kpi-customers", "kpi-products", "kpi-aov"} {
			got[id] = text("#" + id + " .value")
		}
		return got
	}
	if _, err := chromedp.Run(bctx, chromedp.Navigate("http://"+s.httpAddr+"/")); err != nil {
		t.Fatal(err)
	}
	all := cards("all")
	topName := text(`#top-table tbody tr:first-child td[data-col="name"]`)
	newest := text(`#recent-table tbody tr:first-child td[data-col="order_id"]`)
	status := text(`#status`)
	wc, wr, wcu, wp := expected(orders, time.Unix(0, 0))
	if all["kpi-orders"] != wc || all["kpi-revenue"] != wr || all["kpi-customers"] != wcu || all["kpi-products"] != wp {
		t.Fatalf("all-time cards %v, CSV says orders %s revenue %s customers %s products %s", all, wc, wr, wcu, wp)
	}
	if topName != productNames[top] {
		t.Fatalf("top product %q, CSV says %q", topName, productNames[top])
	}
	if newest != orders[0].id {
		t.Fatalf("newest order %q, CSV says %q", newest, orders[0].id)
	}
	if !strings.HasPrefix(status, "connected") {
		t.Fatalf("connection status %q", status)
	}

	// Switch to 7 days: every card follows the range.
	before := time.Now()
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[any](`(() => { const r = document.getElementById("range"); r.value = "7d"; r.dispatchEvent(new Event("change")); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	week := cards("7d")
	after := time.Now()
	lo, _, _, _ := expected(orders, after.Add(-7*24*time.Hour))
	hi, _, _, _ := expected(orders, before.Add(-7*24*time.Hour))
	if week["kpi-orders"] != lo && week["kpi-orders"] != hi {
		t.Fatalf("7-day orders %s, CSV says %s", week["kpi-orders"], lo)
	}
	if week["kpi-orders"] == all["kpi-orders"] || week["kpi-revenue"] == all["kpi-revenue"] {
		t.Fatalf("the range did not change the cards: %v vs %v", week, all)
	}

	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	root, _ := devstack.ModuleRoot(".")
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		dir = filepath.Join(root, "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dashboard.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", filepath.Join(dir, "dashboard.png"))
}
