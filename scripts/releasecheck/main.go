// Command releasecheck builds a file-based Go module proxy from a
// scimkit working tree, holding each released module (the root module and
// the storage modules named on the command line) at one test version,
// zipped as the go command publishes a module: the module's files tracked
// by git (or new and not ignored), without the directories of nested
// modules, with its go.mod's requirements on the other scimkit modules set
// to the test version, as the release procedure in the README sets them
// before tagging.
//
// It fails when a released module's go.mod has a replace directive (the
// go command ignores a dependency's replaces, so a consumer would not get
// what the module needs) or requires a scimkit module that is not being
// released.
//
// Usage:
//
//	go run . -repo ../.. -version v0.1.0-releasecheck -out /tmp/proxy storage/sqlite storage/postgres metrics/prometheus
//
// GOPROXY=file:///tmp/proxy then serves the modules; scripts/release-check.sh
// does the rest.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("releasecheck: ")
	repo := flag.String("repo", ".", "the repository's root directory (the root module)")
	version := flag.String("version", "v0.1.0-releasecheck", "the test version every module gets")
	out := flag.String("out", "", "the proxy directory to write (GOPROXY=file://DIR)")
	flag.Parse()
	if *out == "" || !semver.IsValid(*version) || semver.Canonical(*version) != *version {
		log.Fatal("usage: releasecheck -out DIR [-repo DIR] [-version vX.Y.Z[-pre]] [module dirs below the root...]")
	}
	dirs := append([]string{"."}, flag.Args()...)
	if err := run(*repo, *version, *out, dirs); err != nil {
		log.Fatal(err)
	}
}

// mod is one module being released.
type mod struct {
	dir  string // relative to the repository, slash-separated
	path string // module path
	file *modfile.File
}

func run(repo, version, out string, dirs []string) error {
	var mods []*mod
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(repo, dir, "go.mod"))
		if err != nil {
			return err
		}
		f, err := modfile.Parse(path.Join(dir, "go.mod"), data, nil)
		if err != nil {
			return err
		}
		if f.Module == nil {
			return fmt.Errorf("%s/go.mod: no module line", dir)
		}
		if f.Go == nil {
			return fmt.Errorf("%s/go.mod: no go line: state the minimum Go version", dir)
		}
		if len(f.Replace) > 0 {
			return fmt.Errorf("%s/go.mod: replace %s: a released module must not need a replace (the go command ignores it in a dependency); use go.work for local development", dir, f.Replace[0].Old.Path)
		}
		mods = append(mods, &mod{dir: path.Clean(dir), path: f.Module.Mod.Path, file: f})
	}
	released := map[string]bool{}
	for _, m := range mods {
		released[m.path] = true
	}
	// Every module in the repository, released or not, owns its
	// directory: its files are not the enclosing module's.
	nested, err := moduleDirs(repo)
	if err != nil {
		return err
	}
	files, err := repoFiles(repo)
	if err != nil {
		return err
	}
	for _, m := range mods {
		for _, r := range m.file.Require {
			if strings.HasPrefix(r.Mod.Path, mods[0].path+"/") || r.Mod.Path == mods[0].path {
				if !released[r.Mod.Path] {
					return fmt.Errorf("%s/go.mod requires %s, which is not released with it", m.dir, r.Mod.Path)
				}
				if err := m.file.AddRequire(r.Mod.Path, version); err != nil {
					return err
				}
			}
		}
		m.file.Cleanup()
		gomod, err := m.file.Format()
		if err != nil {
			return err
		}
		var own []modzip.File
		for _, name := range files {
			if owner(name, nested) != m.dir {
				continue
			}
			rel := name
			if m.dir != "." {
				rel = strings.TrimPrefix(name, m.dir+"/")
			}
			f := zipFile{path: rel, disk: filepath.Join(repo, filepath.FromSlash(name))}
			if rel == "go.mod" {
				f.data = gomod
			}
			own = append(own, f)
		}
		if err := publish(out, m.path, version, gomod, own); err != nil {
			return fmt.Errorf("%s: %w", m.dir, err)
		}
		fmt.Printf("%s@%s: %d files, go %s\n", m.path, version, len(own), m.file.Go.Version)
	}
	return nil
}

// moduleDirs returns the directories (slash-separated, relative to repo)
// that hold a go.mod, deepest first.
func moduleDirs(repo string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(repo, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != repo && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == "go.mod" {
			rel, err := filepath.Rel(repo, filepath.Dir(p))
			if err != nil {
				return err
			}
			dirs = append(dirs, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.SortFunc(dirs, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	return dirs, err
}

// owner returns the module directory a file belongs to: the deepest one
// containing it.
func owner(name string, dirs []string) string {
	for _, d := range dirs {
		if d == "." || strings.HasPrefix(name, d+"/") {
			return d
		}
	}
	return "."
}

// repoFiles lists the files git would publish from the working tree: the
// tracked ones and the new ones that are not ignored.
func repoFiles(repo string) ([]string, error) {
	cmd := exec.Command("git", "-C", repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files: %v: %s", err, stderr.Bytes())
	}
	var files []string
	for _, f := range strings.Split(strings.TrimRight(string(outb), "\x00"), "\x00") {
		if f == "" {
			continue
		}
		if _, err := os.Lstat(filepath.Join(repo, f)); errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the working tree
		}
		files = append(files, f)
	}
	return files, nil
}

// publish writes version of the module to the proxy directory out, in the
// layout of the GOPROXY protocol.
func publish(out, modPath, version string, gomod []byte, files []modzip.File) error {
	esc, err := module.EscapePath(modPath)
	if err != nil {
		return err
	}
	escVer, err := module.EscapeVersion(version)
	if err != nil {
		return err
	}
	dir := filepath.Join(out, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	zf, err := os.Create(filepath.Join(dir, escVer+".zip"))
	if err != nil {
		return err
	}
	if err := modzip.Create(zf, module.Version{Path: modPath, Version: version}, files); err != nil {
		zf.Close()
		return err
	}
	if err := zf.Close(); err != nil {
		return err
	}
	info := fmt.Sprintf(`{"Version":%q,"Time":%q}`+"\n", version, time.Now().UTC().Format(time.RFC3339))
	if err := os.WriteFile(filepath.Join(dir, escVer+".info"), []byte(info), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, escVer+".mod"), gomod, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "list"), []byte(version+"\n"), 0o644)
}

// zipFile is a file of a module zip: read from disk, or data when set.
type zipFile struct {
	path string
	disk string
	data []byte
}

func (f zipFile) Path() string { return f.path }

func (f zipFile) Lstat() (os.FileInfo, error) {
	fi, err := os.Lstat(f.disk)
	if err != nil || f.data == nil {
		return fi, err
	}
	return sizedInfo{fi, int64(len(f.data))}, nil
}

func (f zipFile) Open() (io.ReadCloser, error) {
	if f.data != nil {
		return io.NopCloser(bytes.NewReader(f.data)), nil
	}
	return os.Open(f.disk)
}

// sizedInfo is a FileInfo with the size of rewritten contents.
type sizedInfo struct {
	os.FileInfo
	size int64
}

func (s sizedInfo) Size() int64 { return s.size }
