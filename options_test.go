package scimkit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/memory"
)

// TestNewRejectsBadConfiguration: a configuration mistake is an error at
// New, never a panic or a 500 on the first request.
func TestNewRejectsBadConfiguration(t *testing.T) {
	mem := memory.New()
	var nilStore *memory.Store
	tests := []struct {
		name   string
		store  scimkit.ResourceHandler
		tokens scimkit.TokenStore
		opts   []scimkit.Option
	}{
		{"nil store", nil, mem, nil},
		{"nil tokens", mem, nil, nil},
		{"nil pointer store", nilStore, mem, nil},
		{"nil pointer tokens", mem, nilStore, nil},
		{"nil clock", mem, mem, []scimkit.Option{scimkit.WithClock(nil)}},
		{"nil id generator", mem, mem, []scimkit.Option{scimkit.WithIDGenerator(nil)}},
		{"nil hook", mem, mem, []scimkit.Option{scimkit.WithHook(nil)}},
		{"nil logger", mem, mem, []scimkit.Option{scimkit.WithLogger(nil)}},
		{"zero page size", mem, mem, []scimkit.Option{scimkit.WithPageSize(0, 10)}},
		{"default above max", mem, mem, []scimkit.Option{scimkit.WithPageSize(20, 10)}},
		{"max beyond MaxPageSize", mem, mem, []scimkit.Option{scimkit.WithPageSize(100, scimkit.MaxPageSize+1)}},
		{"zero body limit", mem, mem, []scimkit.Option{scimkit.WithMaxBodyBytes(0)}},
		{"negative body limit", mem, mem, []scimkit.Option{scimkit.WithMaxBodyBytes(-1)}},
		{"relative base URL", mem, mem, []scimkit.Option{scimkit.WithBaseURL("/scim")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := scimkit.New(tc.store, tc.tokens, tc.opts...)
			require.Error(t, err)
			assert.Nil(t, srv)
			assert.Regexp(t, `^scim: `, err.Error())
		})
	}
	t.Run("the limits themselves are accepted", func(t *testing.T) {
		_, err := scimkit.New(mem, mem,
			scimkit.WithPageSize(1, scimkit.MaxPageSize),
			scimkit.WithMaxBodyBytes(1),
			scimkit.WithClock(func() time.Time { return time.Unix(0, 0) }),
			scimkit.WithIDGenerator(func() string { return "x" }))
		require.NoError(t, err)
	})
}
