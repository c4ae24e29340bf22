package snowemu

import (
	"context"
	"fmt"
	"testing"

	"github.com/dropflow/dropflow/internal/warehouse"
	"github.com/dropflow/dropflow/internal/warehouse/snowflake"
)

// BenchmarkSnowflakeLoadPaths times one LoadBatch of n events through each
// Snowflake load path (INSERT … SELECT with array binds, and gzip NDJSON
// PUT + COPY INTO) against the emulator, for the SNOW_STAGE_THRESHOLD
// default. It measures the driver's and Dropflow's side of each path (bind
// encoding, file writing, round trips), not Snowflake's server time.
func BenchmarkSnowflakeLoadPaths(b *testing.B) {
	for _, n := range []int{100, 500, 2000, 5000} {
		for _, path := range []struct {
			name      string
			threshold int
		}{{"insert_select", 1 << 30}, {"put_copy", 1}} {
			b.Run(fmt.Sprintf("%s/events_%d", path.name, n), func(b *testing.B) {
				t := &testing.T{}
				s, err := Start(Options{Dir: b.TempDir(), Account: "local", Users: []User{{Name: "dropflow", Password: "pw"}}})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				wh, err := snowflake.Open(context.Background(), snowflake.Options{Account: "local", User: "dropflow", Password: "pw",
					Database: "DROPSHIPPING_DB", Warehouse: "COMPUTE_WH", Schema: "RAW", Host: "127.0.0.1", Port: s.Port(), Protocol: "http",
					StageThreshold: path.threshold, TempDir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				defer wh.Close()
				ctx := context.Background()
				if _, err := wh.Migrate(ctx, false); err != nil {
					b.Fatal(err)
				}
				if _, err := wh.InitOffset(ctx, "t", 0, 0); err != nil {
					b.Fatal(err)
				}
				var off int64
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					evs := make([]warehouse.Event, n)
					for k := range evs {
						evs[k] = ev(t, int(off)+k, 1, "paid", off+int64(k))
					}
					if _, err := wh.LoadBatch(ctx, warehouse.Batch{Topic: "t", Partition: 0, FromOffset: off, NextOffset: off + int64(n), Events: evs}); err != nil {
						b.Fatal(err)
					}
					off += int64(n)
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}
