package scimtest_test

import (
	"context"
	"fmt"
	"log"
	"runtime"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/scimtest"
	"github.com/scimkit/scimkit/storage/memory"
)

// tally is a scimtest.TB outside package testing (as the scimcheck
// command has one): it counts the steps that pass and fail.
type tally struct {
	passed, failed *int
	bad            bool
	children       int
}

func (t *tally) Helper()                   {}
func (t *tally) Logf(string, ...any)       {}
func (t *tally) Errorf(f string, a ...any) { t.bad = true; fmt.Printf(f+"\n", a...) }
func (t *tally) FailNow()                  { t.bad = true; runtime.Goexit() }
func (t *tally) Failed() bool              { return t.bad }

func (t *tally) Step(name string, f func(scimtest.TB)) bool {
	t.children++
	sub := &tally{passed: t.passed, failed: t.failed}
	done := make(chan struct{})
	go func() { defer close(done); f(sub) }()
	<-done
	switch {
	case sub.bad:
		*t.failed++
		t.bad = true
	case sub.children == 0:
		*t.passed++
	}
	return !sub.bad
}

// The kit replays Entra's and Okta's sequences against a server; in a
// test, pass the *testing.T: scimtest.Entra(t, srv, token).
func ExampleRunOkta() {
	store := memory.New()
	srv, err := scimkit.New(store, store)
	if err != nil {
		log.Fatal(err)
	}
	if err := scimkit.SetToken(context.Background(), store, "acme", "acme-example-token"); err != nil {
		log.Fatal(err)
	}
	var passed, failed int
	scimtest.RunOkta(&tally{passed: &passed, failed: &failed}, scimtest.Handler(srv, "acme-example-token"))
	scimtest.RunEntra(&tally{passed: &passed, failed: &failed}, scimtest.Handler(srv, "acme-example-token"))
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	// Output:
	// 76 passed, 0 failed
}
