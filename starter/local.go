package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/dropflow/dropflow/internal/dashboard"
	"github.com/dropflow/dropflow/internal/datagen"
	"github.com/dropflow/dropflow/internal/params"
)

// cmdGenerate writes the seed CSVs locally, without Temporal (make generate-data).
func cmdGenerate(_ context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	var in params.SeedDataInput
	datasetFlags(fs, &in.Seed, &in.Customers, &in.Products, &in.Orders, &in.AsOf)
	dir := fs.String("output-dir", "data/seed", "output directory")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	in, err := in.WithDefaults()
	if err != nil {
		return usageError{err}
	}
	asOf := time.Now().UTC().Truncate(24 * time.Hour)
	if in.AsOf != "" {
		asOf, _ = time.Parse(time.RFC3339, in.AsOf) // validated by WithDefaults
	}
	f, err := datagen.Generate(*dir, datagen.Spec{Seed: in.Seed, Customers: in.Customers, Products: in.Products, Orders: in.Orders, AsOf: asOf})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s (%d), %s (%d), %s (%d); seed %d, as of %s\n", f.Customers, in.Customers, f.Inventory, in.Products, f.Orders, in.Orders, in.Seed, asOf.Format(time.RFC3339))
	return nil
}

// cmdMonitor prints the dashboard's figures every interval.
func cmdMonitor(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("monitor", flag.ContinueOnError)
	addr := os.Getenv("HTTP_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	url := fs.String("url", "http://"+addr, "dashboard URL")
	every := fs.Duration("every", 30*time.Second, "refresh interval")
	once := fs.Bool("once", false, "print once and exit")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	fmt.Fprintf(out, "dashboard: %s\n", *url)
	for {
		var s dashboard.Summary
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url+"/api/summary", nil)
		if err != nil {
			return usageError{fmt.Errorf("monitor --url %q: %w", *url, err)}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("dashboard not reachable at %s: %w (is `make demo` running?)", *url, err)
		}
		err = json.NewDecoder(resp.Body).Decode(&s)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("dashboard %s: %w", *url, err)
		}
		val := "none"
		if s.LastValidation != nil {
			val = s.LastValidation.Status
		}
		fmt.Fprintf(out, "%s  orders %d  revenue %.2f  AOV %.2f  RAW %d  rejects %d  PROD %d  validation %s\n",
			s.GeneratedAt, s.Orders, s.Revenue, s.AvgOrderValue, s.Layers.RawEvents, s.Layers.RawRejected, s.Layers.ProdOrders, val)
		if *once {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*every):
		}
	}
}
