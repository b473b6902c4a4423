// Command scimcheck runs the scimtest conformance kit against a live SCIM
// endpoint: the request sequences Microsoft Entra ID (default job and
// aadOptscim062020) and Okta (OIN app and custom app) send, with checks on
// status, headers, bodies and read-backs.
//
//	go run github.com/scimkit/scimkit/cmd/scimcheck -url http://127.0.0.1:8080/scim/v2 -token T [-idp entra|okta|all] [-allow-remote]
//
// It prints one line per check ("ok" or "FAIL", the step's name, and on a
// failure what the IdP would have logged), then exactly "N passed, M
// failed", and exits 1 when a check failed. What it creates is named
// "scimtest-<random>-…" and deleted at the end. It talks only to loopback
// addresses unless -allow-remote is given, because it writes and deletes
// users and groups.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/scimkit/scimkit/scimtest"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scimcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "", "SCIM base `URL`, e.g. http://127.0.0.1:8080/scim/v2")
	token := fs.String("token", "", "bearer `token` of the tenant to test")
	idp := fs.String("idp", "all", "sequences to run: entra, okta or all")
	remote := fs.Bool("allow-remote", false, "allow a URL that is not a loopback address (the check writes and deletes data)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := checkURL(*base, *remote); err != nil {
		fmt.Fprintln(stderr, "scimcheck:", err)
		return 2
	}
	if *token == "" {
		fmt.Fprintln(stderr, "scimcheck: -token is required")
		return 2
	}
	tg := scimtest.URL(*base, *token, &http.Client{Timeout: 60 * time.Second})
	r := &reporter{out: stdout}
	switch *idp {
	case "entra":
		r.Step("entra", func(t scimtest.TB) { scimtest.RunEntra(t, tg) })
	case "okta":
		r.Step("okta", func(t scimtest.TB) { scimtest.RunOkta(t, tg) })
	case "all":
		r.Step("entra", func(t scimtest.TB) { scimtest.RunEntra(t, tg) })
		r.Step("okta", func(t scimtest.TB) { scimtest.RunOkta(t, tg) })
	default:
		fmt.Fprintf(stderr, "scimcheck: -idp %q: want entra, okta or all\n", *idp)
		return 2
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", r.passed, r.failed)
	if r.failed > 0 {
		return 1
	}
	return 0
}

// checkURL accepts an absolute http(s) URL on a loopback address, or any
// host with allowRemote.
func checkURL(raw string, allowRemote bool) error {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-url %q: want an absolute http(s) URL such as http://127.0.0.1:8080/scim/v2", raw)
	}
	if allowRemote {
		return nil
	}
	h := u.Hostname()
	if ip := net.ParseIP(h); (ip != nil && ip.IsLoopback()) || strings.EqualFold(h, "localhost") {
		return nil
	}
	return fmt.Errorf("-url %q is not a loopback address; the check creates and deletes users and groups, so pass -allow-remote to run it against %s", raw, h)
}

// reporter is the scimtest.TB of the command: each leaf step is one
// check, printed as one line.
type reporter struct {
	out            io.Writer
	mu             sync.Mutex // guards passed, failed and out
	passed, failed int
}

// step is the TB of one running step.
type step struct {
	r      *reporter
	name   string
	mu     sync.Mutex // guards errs, failed, steps
	errs   []string
	failed bool
	steps  int // sub-steps run
}

func (s *step) Helper()             {}
func (s *step) Logf(string, ...any) {}
func (s *step) Failed() bool        { s.mu.Lock(); defer s.mu.Unlock(); return s.failed }
func (s *step) FailNow()            { s.mu.Lock(); s.failed = true; s.mu.Unlock(); runtime.Goexit() }
func (s *step) Errorf(f string, a ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed = true
	s.errs = append(s.errs, fmt.Sprintf(f, a...))
}

// Step runs a nested step.
func (s *step) Step(name string, f func(scimtest.TB)) bool {
	s.mu.Lock()
	s.steps++
	s.mu.Unlock()
	ok := s.r.runStep(s.name+"/"+name, f)
	if !ok {
		s.mu.Lock()
		s.failed = true
		s.mu.Unlock()
	}
	return ok
}

// Step runs a top-level step.
func (r *reporter) Step(name string, f func(scimtest.TB)) bool { return r.runStep(name, f) }

// runStep runs f in its own goroutine, so FailNow (runtime.Goexit) ends
// only this step, as in package testing. A step without sub-steps is a
// check and prints a line; a parent prints only its own errors.
func (r *reporter) runStep(name string, f func(scimtest.TB)) bool {
	s := &step{r: r, name: name}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(s)
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.steps > 0 && len(s.errs) == 0 {
		return !s.failed
	}
	if s.failed {
		r.failed++
		fmt.Fprintf(r.out, "FAIL %s\n", name)
		for _, e := range s.errs {
			fmt.Fprintf(r.out, "     %s\n", strings.ReplaceAll(e, "\n", "\n     "))
		}
		return false
	}
	r.passed++
	fmt.Fprintf(r.out, "ok   %s\n", name)
	return true
}
