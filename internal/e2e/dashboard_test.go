package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net"
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

	"github.com/dropflow/dropflow/internal/dashboard"
	"github.com/dropflow/dropflow/internal/devstack"
	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
	"github.com/dropflow/dropflow/internal/warehouse"
	"github.com/dropflow/dropflow/internal/warehouse/duckdb"
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

	bctx := browser(t, ctx)
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
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate("http://"+s.httpAddr+"/")); err != nil {
		t.Fatal(err)
	}
	all := cards("all")
	// Money is shown as money: the default CURRENCY is EUR.
	for _, id := range []string{"kpi-revenue", "kpi-aov"} {
		if !strings.Contains(all[id], "€") {
			t.Fatalf("%s %q shows no currency", id, all[id])
		}
		all[id] = strings.TrimSpace(strings.ReplaceAll(all[id], "€", ""))
	}
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

	if _, err := chromedp.Run(bctx, chromedp.Evaluate[any](`(() => { const r = document.getElementById("range"); r.value = "all"; r.dispatchEvent(new Event("change")); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	cards("all")
	for _, w := range []int64{375, 1280, 1920} {
		l := layoutAt(t, bctx, "http://"+s.httpAddr+"/", "pipeline", w, "ok")
		for _, c := range l.Charts {
			if c.Points == 0 {
				t.Errorf("%d px: chart %s has no data", w, c.ID)
			}
		}
		if !l.HasFreshness {
			t.Errorf("%d px: the freshness chart has no point after a merge", w)
		}
		if l.Currency != "EUR" || !strings.Contains(l.Figures["kpi-revenue"], "€") || !strings.Contains(l.Figures["recent-total"], "€") {
			t.Errorf("%d px: currency %q, revenue %q, recent total %q", w, l.Currency, l.Figures["kpi-revenue"], l.Figures["recent-total"])
		}
		if l.Alerts != "" {
			t.Errorf("%d px: a healthy pipeline shows alerts: %s", w, l.Alerts)
		}
	}
}

// layout is what the page looks like at one width, read from the DOM.
type layout struct {
	ScrollWidth float64           `json:"scrollWidth"`
	InnerWidth  float64           `json:"innerWidth"`
	Hidden      []string          `json:"hidden"`
	Figures     map[string]string `json:"figures"`
	Charts      []struct {
		ID     string
		Points int
		Width  float64
	} `json:"charts"`
	HasFreshness bool    `json:"hasFreshness"`
	Currency     string  `json:"currency"`
	Alerts       string  `json:"alerts"`
	HealthTop    float64 `json:"healthTop"`
	TrendsTop    float64 `json:"trendsTop"`
}

// layoutJS measures the page: horizontal overflow, every panel and card on
// screen, each figure filled in, each chart drawn inside its panel.
const layoutJS = `(() => {
  const hidden = [];
  for (const el of document.querySelectorAll(".panel, .card")) {
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || cs.display === "none" || cs.visibility === "hidden" || r.left < -0.5 || r.right > innerWidth + 0.5)
      hidden.push((el.id || el.querySelector("h2").textContent) + " " + JSON.stringify([r.left, r.right, r.width, r.height]));
  }
  for (const v of document.querySelectorAll(".card .value"))
    if (v.scrollWidth > v.clientWidth + 1) hidden.push("clipped figure " + v.parentElement.id + " " + JSON.stringify([v.scrollWidth, v.clientWidth]));
  for (const c of document.querySelectorAll("canvas")) {
    const r = c.getBoundingClientRect(), p = c.closest(".panel").getBoundingClientRect();
    if (r.width === 0 || r.right > p.right + 0.5) hidden.push("canvas " + c.id + " " + JSON.stringify([r.width, r.right, p.right]));
  }
  const figures = {};
  for (const id of ["kpi-orders", "kpi-revenue", "kpi-customers", "kpi-products", "kpi-aov"]) figures[id] = document.querySelector("#" + id + " .value").textContent;
  for (const id of ["h-rate", "h-lag", "h-fresh", "h-merge", "h-validation", "h-raw", "h-conflicts", "h-prod"]) figures[id] = document.getElementById(id).textContent;
  const first = (sel) => { const e = document.querySelector(sel); return e ? e.textContent : ""; };
  figures["top-name"] = first("#top-table tbody td[data-col=name]");
  figures["recent-total"] = first("#recent-table tbody td[data-col=total]");
  const charts = [...document.querySelectorAll("canvas")].map(c => { const ch = Chart.getChart(c); return {ID: c.id, Points: ch ? ch.data.labels.length : 0, Width: c.getBoundingClientRect().width}; });
  const fresh = Chart.getChart(document.getElementById("fresh-chart"));
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth, hidden, figures, charts,
    hasFreshness: !!fresh && fresh.data.datasets.length > 0 && fresh.data.datasets[0].data.some(v => v !== null),
    currency: document.body.dataset.currency || "", alerts: [...document.querySelectorAll("#alerts .alert")].map(a => a.textContent).join(" | "),
    healthTop: document.getElementById("health").getBoundingClientRect().top, trendsTop: document.getElementById("trends").getBoundingClientRect().top};
})()`

// browser starts headless Chromium for the test.
func browser(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: install Debian's chromium package (.ci/run does)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	return bctx
}

// layoutAt renders url at width px until the page reaches state, checks
// the layout every width must hold, and saves a full-page screenshot.
// Every figure must be filled in for the "pipeline" page, which has data.
func layoutAt(t *testing.T, bctx context.Context, url, name string, width int64, state string) layout {
	t.Helper()
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`body[data-state="`+state+`"]`)), chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatalf("%d px: page did not reach state %s: %v", width, state, err)
	}
	l, err := chromedp.Run(bctx, chromedp.Evaluate[layout](layoutJS))
	if err != nil {
		t.Fatal(err)
	}
	if l.ScrollWidth > l.InnerWidth {
		t.Errorf("%d px: the page scrolls sideways (scrollWidth %.0f > innerWidth %.0f)", width, l.ScrollWidth, l.InnerWidth)
	}
	for _, h := range l.Hidden {
		t.Errorf("%d px: not fully on screen: %s", width, h)
	}
	if l.HealthTop > l.TrendsTop {
		t.Errorf("%d px: the health panel (top %.0f) sits below the trends (top %.0f)", width, l.HealthTop, l.TrendsTop)
	}
	if name == "pipeline" {
		for id, v := range l.Figures {
			if strings.TrimSpace(v) == "" || v == "–" {
				t.Errorf("%d px: %s shows no figure (%q)", width, id, v)
			}
		}
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(artifactsDir(t), fmt.Sprintf("dashboard-%s-%d.png", name, width))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d px: screenshot %s", width, path)
	return l
}

func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		root, _ := devstack.ModuleRoot(".")
		dir = filepath.Join(root, "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDashboardStatesInABrowser renders what the page says when there is
// nothing to show, when the last validation failed and when the warehouse
// cannot be read: each a real DuckDB file behind the real handler.
func TestDashboardStatesInABrowser(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bctx := browser(t, ctx)
	serve := func(wh warehouse.Warehouse) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: (&dashboard.Server{WH: wh, TemporalUIURL: "http://127.0.0.1:1", Namespace: "default", Currency: "EUR"}).Handler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { srv.Close() })
		return "http://" + ln.Addr().String() + "/"
	}
	open := func() *duckdb.Warehouse {
		d, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		if _, err := d.Migrate(ctx, false); err != nil {
			t.Fatal(err)
		}
		return d
	}
	expect := func(l layout, width int64, words ...string) {
		t.Helper()
		for _, w := range words {
			if !strings.Contains(l.Alerts, w) {
				t.Errorf("%d px: the page does not say %q; alerts: %s", width, w, l.Alerts)
			}
		}
	}

	empty := serve(open())
	for _, w := range []int64{375, 1280} {
		expect(layoutAt(t, bctx, empty, "empty", w, "ok"), w, "No data yet", "bin/starter pipeline --wait")
	}

	failing := open()
	rep := `{"status":"FAIL","checks":[{"name":"prod_negative_price","status":"FAIL"}]}`
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO prod.orders VALUES (1,1,1000,2,10.00,20.00,'paid',now(),'e1',1,now())`, nil},
		{`INSERT INTO ops.validation_runs VALUES ('r1', now(), 'FAIL', 0, 1, 1, ?)`, []any{rep}},
	} {
		rows, err := failing.Query(ctx, q.sql, q.args...)
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	for _, w := range []int64{375, 1280} {
		expect(layoutAt(t, bctx, serve(failing), "validation-failed", w, "ok"), w, "Last validation failed", "prod_negative_price", "bin/starter validate")
	}

	gone := open()
	url := serve(gone)
	gone.Close() // the file stays; the worker can no longer read it
	for _, w := range []int64{375, 1280, 1920} {
		expect(layoutAt(t, bctx, url, "warehouse-unreachable", w, "warehouse-unreachable"), w, "Warehouse unreachable", "DUCKDB_PATH", "closed")
	}
}
