package events

import (
	"encoding/json"
	"testing"
)

func BenchmarkDecode(b *testing.B) {
	v, _ := json.Marshal(sample())
	b.SetBytes(int64(len(v)))
	for i := 0; i < b.N; i++ {
		if _, err := Decode(v); err != nil {
			b.Fatal(err)
		}
	}
}
