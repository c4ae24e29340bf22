package snowflake

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/snowflakedb/gosnowflake"

	"github.com/dropflow/dropflow/internal/warehouse"
)

// Offset returns the stored next offset of a partition.
func (s *Warehouse) Offset(ctx context.Context, topic string, partition int) (int64, bool, error) {
	var next int64
	err := s.queryRow(ctx, s.db, snowOffsetGet, []any{&next}, topic, partition)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("warehouse: read offset of %s/%d: %w", topic, partition, err)
	}
	return next, true, nil
}

// InitOffset stores next if the partition has no offset yet.
func (s *Warehouse) InitOffset(ctx context.Context, topic string, partition int, next int64) (int64, error) {
	if _, err := s.exec(ctx, s.db, snowOffsetInit, nil, topic, partition, next, time.Now().UTC()); err != nil {
		return 0, fmt.Errorf("warehouse: init offset of %s/%d: %w", topic, partition, err)
	}
	stored, _, err := s.Offset(ctx, topic, partition)
	return stored, err
}

// ResetOffset moves a stored offset, fenced on its current value.
func (s *Warehouse) ResetOffset(ctx context.Context, topic string, partition int, from, to int64) error {
	return s.inTx(ctx, nil, func(conn *sql.Conn) error {
		return s.moveOffset(ctx, conn, topic, partition, from, to, time.Now().UTC())
	})
}

func (s *Warehouse) moveOffset(ctx context.Context, conn *sql.Conn, topic string, partition int, from, to int64, at time.Time) error {
	r, err := s.exec(ctx, conn, snowOffsetMove, nil, to, at, topic, partition, from)
	if err != nil {
		return fmt.Errorf("warehouse: move offset of %s/%d: %w", topic, partition, err)
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return warehouse.ErrFenced
	}
	return nil
}

// ntz formats a timestamp for a TIMESTAMP_NTZ text bind ("" is NULL).
func ntz(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05.000000")
}

var stagePathRE = regexp.MustCompile(`^[A-Za-z0-9_./-]+$`)

// LoadBatch writes one batch and its offset in one transaction: the events
// land in a session-temporary table (INSERT … SELECT for small batches,
// PUT + COPY INTO for large ones), move into RAW skipping event_ids already
// there, with the rejects and the fenced offset move. The fence is the last
// statement so that the offsets table is locked only for the commit.
func (s *Warehouse) LoadBatch(ctx context.Context, b warehouse.Batch) (warehouse.LoadResult, error) {
	var res warehouse.LoadResult
	now := time.Now().UTC()
	events, batchConflicts := warehouse.UniqueEvents(b)
	rejects := append(append([]warehouse.Reject(nil), b.Rejects...), batchConflicts...)
	staged := len(events) >= s.o.StageThreshold
	var prefix string
	if staged {
		var err error
		if prefix, err = s.putBatch(ctx, b, events); err != nil {
			return res, err
		}
		// The staged file is not needed once the transaction ends either way.
		defer func() {
			_, _ = s.exec(context.WithoutCancel(ctx), s.db, snowLoadRemove, map[string]string{"PREFIX": prefix})
		}()
	}
	err := s.inTx(ctx, func(conn *sql.Conn) error {
		_, err := s.exec(ctx, conn, snowLoadCreate, nil)
		return err
	}, func(conn *sql.Conn) error {
		if len(events) > 0 {
			if _, err := s.exec(ctx, conn, snowLoadClear, nil); err != nil {
				return err
			}
			if staged {
				if _, err := s.exec(ctx, conn, snowLoadCopy, map[string]string{"PREFIX": prefix}); err != nil {
					return err
				}
			} else if err := s.insertEvents(ctx, conn, events); err != nil {
				return err
			}
			// Same id, other content: rejected with both values, before the
			// publish skips every id already in RAW.
			c, err := s.exec(ctx, conn, snowLoadConflicts, nil, b.Topic, b.Partition, now)
			if err != nil {
				return err
			}
			conflicts, _ := c.RowsAffected()
			r, err := s.exec(ctx, conn, snowLoadPublish, nil, b.Topic, b.Partition, now)
			if err != nil {
				return err
			}
			res.Inserted, _ = r.RowsAffected()
			res.Conflicts = conflicts + int64(len(batchConflicts))
			res.Duplicates = int64(len(b.Events)) - res.Inserted - res.Conflicts
			res.Rejected = conflicts
		}
		if len(rejects) > 0 {
			if err := s.insertRejects(ctx, conn, b.Topic, b.Partition, rejects, now); err != nil {
				return err
			}
			res.Rejected += int64(len(rejects))
		}
		return s.moveOffset(ctx, conn, b.Topic, b.Partition, b.FromOffset, b.NextOffset, now)
	})
	if err != nil {
		return warehouse.LoadResult{}, err
	}
	return res, nil
}

func (s *Warehouse) insertEvents(ctx context.Context, conn *sql.Conn, evs []warehouse.Event) error {
	ids, types, payloads, produced, hashes := make([]string, len(evs)), make([]string, len(evs)), make([]string, len(evs)), make([]string, len(evs)), make([]string, len(evs))
	offsets := make([]int64, len(evs))
	for i, e := range evs {
		ids[i], types[i], payloads[i], offsets[i], produced[i], hashes[i] = e.EventID, e.EventType, string(e.Payload), e.Offset, ntz(e.ProducedAt), e.ContentHash
	}
	_, err := s.exec(ctx, conn, snowLoadInsert, nil,
		gosnowflake.Array(&ids), gosnowflake.Array(&types), gosnowflake.Array(&payloads), gosnowflake.Array(&offsets), gosnowflake.Array(&produced), gosnowflake.Array(&hashes))
	return err
}

func (s *Warehouse) insertRejects(ctx context.Context, conn *sql.Conn, topic string, partition int, rejects []warehouse.Reject, now time.Time) error {
	n := len(rejects)
	topics, keys, values, reasons, msgs, at, cparts, coffs, cvals := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	parts, offsets := make([]int64, n), make([]int64, n)
	for i, r := range rejects {
		topics[i], parts[i], offsets[i] = topic, int64(partition), r.Offset
		keys[i], values[i] = warehouse.TextOf(r.Key), warehouse.TextOf(r.Value)
		reasons[i], msgs[i], at[i] = r.Reason, r.Error, ntz(now)
		if c := r.Conflict; c != nil {
			cparts[i], coffs[i], cvals[i] = strconv.Itoa(c.Partition), strconv.FormatInt(c.Offset, 10), warehouse.TextOf(c.Value)
		}
	}
	_, err := s.exec(ctx, conn, snowRejects, nil,
		gosnowflake.Array(&topics), gosnowflake.Array(&parts), gosnowflake.Array(&offsets), gosnowflake.Array(&keys),
		gosnowflake.Array(&values), gosnowflake.Array(&reasons), gosnowflake.Array(&msgs), gosnowflake.Array(&at),
		gosnowflake.Array(&cparts), gosnowflake.Array(&coffs), gosnowflake.Array(&cvals))
	return err
}

// stagedEvent is one NDJSON line of a staged batch.
type stagedEvent struct {
	EventID    string          `json:"event_id"`
	EventType  string          `json:"event_type"`
	Payload    json.RawMessage `json:"payload"`
	Offset     int64           `json:"kafka_offset"`
	ProducedAt *string         `json:"produced_at"`
	Hash       string          `json:"content_hash,omitempty"`
}

// putBatch writes the events as gzip NDJSON and PUTs the file to
// RAW.LOAD_STAGE under a prefix of its own; it returns the prefix.
func (s *Warehouse) putBatch(ctx context.Context, b warehouse.Batch, evs []warehouse.Event) (string, error) {
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", fmt.Errorf("warehouse: staged batch name: %w", err)
	}
	name := fmt.Sprintf("p%d-%d-%s", b.Partition, b.FromOffset, hex.EncodeToString(rnd[:]))
	path := filepath.Join(s.o.TempDir, "dropflow-"+name+".ndjson.gz")
	if err := writeNDJSON(path, evs); err != nil {
		return "", err
	}
	defer os.Remove(path)
	prefix := "batches/" + name + "/"
	if err := s.put(ctx, snowLoadPut, path, prefix); err != nil {
		return "", err
	}
	return prefix, nil
}

func writeNDJSON(path string, evs []warehouse.Event) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("warehouse: staged batch file: %w", err)
	}
	zw := gzip.NewWriter(f)
	enc := json.NewEncoder(zw)
	for _, e := range evs {
		line := stagedEvent{EventID: e.EventID, EventType: e.EventType, Payload: e.Payload, Offset: e.Offset, Hash: e.ContentHash}
		if p := ntz(e.ProducedAt); p != "" {
			line.ProducedAt = &p
		}
		if err := enc.Encode(line); err != nil {
			f.Close()
			return fmt.Errorf("warehouse: staged batch file: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return fmt.Errorf("warehouse: staged batch file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("warehouse: staged batch file: %w", err)
	}
	return nil
}

// put uploads a local file with a PUT statement; the path and prefix are
// spliced into the statement (PUT takes no binds), so both are checked.
func (s *Warehouse) put(ctx context.Context, name, path, prefix string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("warehouse: %s: %w", name, err)
	}
	abs = filepath.ToSlash(abs)
	if !stagePathRE.MatchString(abs) || !stagePathRE.MatchString(prefix) {
		return fmt.Errorf("warehouse: %s: path %q or stage prefix %q has characters a PUT cannot carry (want letters, digits, _ . / -)", name, abs, prefix)
	}
	_, err = s.exec(ctx, s.db, name, map[string]string{"FILE": abs, "PREFIX": prefix})
	return err
}
