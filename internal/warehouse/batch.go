package warehouse

import (
	"fmt"
	"strings"
)

// UniqueEvents keeps the first copy of each event_id of a batch; a later
// copy with other content is returned as an event_id_conflict reject.
func UniqueEvents(b Batch) ([]Event, []Reject) {
	first := make(map[string]int, len(b.Events))
	out := make([]Event, 0, len(b.Events))
	var conflicts []Reject
	for _, e := range b.Events {
		i, dup := first[e.EventID]
		if !dup {
			first[e.EventID] = len(out)
			out = append(out, e)
			continue
		}
		if f := out[i]; f.ContentHash != e.ContentHash {
			conflicts = append(conflicts, ConflictReject(e, b.Partition, f.Offset, f.Payload))
		}
	}
	return out, conflicts
}

// ConflictReject rejects e, whose event_id an event with other content at
// partition/offset already has.
func ConflictReject(e Event, partition int, offset int64, value []byte) Reject {
	return Reject{Offset: e.Offset, Value: e.Payload, Reason: ReasonIDConflict,
		Error:    fmt.Sprintf("event_id %q is already loaded with other content (partition %d, offset %d); a resend must carry the same content", e.EventID, partition, offset),
		Conflict: &Conflict{Partition: partition, Offset: offset, Value: value}}
}

// ReasonIDConflict is events.ReasonIDConflict (the warehouse does not import the contract).
const ReasonIDConflict = "event_id_conflict"

// TextOf keeps a poison record's bytes as text, marking invalid UTF-8.
func TextOf(b []byte) string { return strings.ToValidUTF8(string(b), "\uFFFD") }
