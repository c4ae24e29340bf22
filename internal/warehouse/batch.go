package warehouse

import (
	"fmt"
	"strings"
)

// uniqueEvents keeps the first copy of each event_id of a batch; a later
// copy with other content is returned as an event_id_conflict reject.
func uniqueEvents(b Batch) ([]Event, []Reject) {
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
			conflicts = append(conflicts, conflictReject(e, b.Partition, f.Offset, f.Payload))
		}
	}
	return out, conflicts
}

// conflictReject rejects e, whose event_id an event with other content at
// partition/offset already has.
func conflictReject(e Event, partition int, offset int64, value []byte) Reject {
	return Reject{Offset: e.Offset, Value: e.Payload, Reason: reasonIDConflict,
		Error:    fmt.Sprintf("event_id %q is already loaded with other content (partition %d, offset %d); a resend must carry the same content", e.EventID, partition, offset),
		Conflict: &Conflict{Partition: partition, Offset: offset, Value: value}}
}

// reasonIDConflict is events.ReasonIDConflict (the warehouse does not import the contract).
const reasonIDConflict = "event_id_conflict"

// textOf keeps a poison record's bytes as text, marking invalid UTF-8.
func textOf(b []byte) string { return strings.ToValidUTF8(string(b), "\uFFFD") }
