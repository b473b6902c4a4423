package memory_test

import (
	"testing"

	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
	"github.com/scimkit/scimkit/storage/storagetest"
)

func TestStore(t *testing.T) {
	storagetest.Run(t, func(*testing.T) storage.Store { return memory.New() })
}
