package scimkit_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEveryExportedIdentifierIsDocumented parses every package of the
// repository (every module: the walk starts at the root module and goes
// into storage/sqlite, storage/postgres and examples) and checks that go
// doc shows a doc comment for the package and for each exported constant,
// variable, function, type and method of an exported type.
func TestEveryExportedIdentifierIsDocumented(t *testing.T) {
	var missing []string
	packages := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata") {
			return filepath.SkipDir
		}
		m, n := undocumented(t, path)
		missing = append(missing, m...)
		packages += n
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, packages, 5, "the walk found the packages")
	assert.Empty(t, missing, "exported identifiers without a doc comment")
}

// undocumented returns the exported identifiers of the package in dir that
// have no doc comment, and 1 when dir holds a library package.
func undocumented(t *testing.T, dir string) ([]string, int) {
	t.Helper()
	fset := token.NewFileSet()
	matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	var files []*ast.File
	for _, f := range matches {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		require.NoError(t, err)
		files = append(files, file)
	}
	if len(files) == 0 || files[0].Name.Name == "main" {
		return nil, 0
	}
	p, err := doc.NewFromFiles(fset, files, "example.com/"+filepath.ToSlash(dir))
	require.NoError(t, err)
	var out []string
	miss := func(what string) { out = append(out, dir+": "+what) }
	if strings.TrimSpace(p.Doc) == "" {
		miss("package " + p.Name)
	}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			if v.Doc != "" {
				continue
			}
			for _, spec := range v.Decl.Specs {
				vs := spec.(*ast.ValueSpec)
				if vs.Doc != nil || vs.Comment != nil {
					continue
				}
				for _, n := range vs.Names {
					if n.IsExported() {
						miss(n.Name)
					}
				}
			}
		}
	}
	funcs := func(prefix string, fs []*doc.Func) {
		for _, f := range fs {
			if ast.IsExported(f.Name) && strings.TrimSpace(f.Doc) == "" {
				miss(prefix + f.Name)
			}
		}
	}
	values(p.Consts)
	values(p.Vars)
	funcs("", p.Funcs)
	for _, typ := range p.Types {
		if strings.TrimSpace(typ.Doc) == "" {
			miss("type " + typ.Name)
		}
		values(typ.Consts)
		values(typ.Vars)
		funcs("", typ.Funcs)
		funcs(typ.Name+".", typ.Methods)
	}
	return out, 1
}
