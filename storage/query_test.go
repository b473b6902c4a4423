package storage_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/scimkit/scimkit/storage"
)

func TestQueryPageSize(t *testing.T) {
	tests := []struct {
		name string
		q    storage.Query
		want int
	}{
		{"the zero Query asks for a default page", storage.Query{}, storage.DefaultCount},
		{"a count is the page size", storage.Query{Count: 7}, 7},
		{"a negative count means no limit", storage.Query{Count: -1}, -1},
		{"TotalOnly asks for no resources", storage.Query{TotalOnly: true}, 0},
		{"TotalOnly wins over a count", storage.Query{TotalOnly: true, Count: 7}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.q.PageSize())
		})
	}
}
