package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/zip"
)

// gitFile is a tracked file of the checkout, as a module zip entry.
type gitFile struct{ root, path string }

func (f gitFile) Path() string                 { return f.path }
func (f gitFile) Lstat() (os.FileInfo, error)  { return os.Lstat(filepath.Join(f.root, f.path)) }
func (f gitFile) Open() (io.ReadCloser, error) { return os.Open(filepath.Join(f.root, f.path)) }

// `go install github.com/halyardhq/halyard/cmd/halyard@latest` (README)
// downloads the module as a zip of the tagged commit's files, and the go
// command refuses the whole module if one path is invalid on any system
// (a fuzz seed named "nul", reserved on Windows, once made it fail) or the
// module is too large. The same checks, on the files git tracks.
func TestModuleZipAcceptedByGoInstall(t *testing.T) {
	root, _ := filepath.Abs("../..")
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v): a published module is made from git's files", err)
	}
	var files []zip.File
	seen := map[string]bool{} // a file in a merge conflict is listed once per side
	for _, p := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if !seen[p] {
			seen[p] = true
			files = append(files, gitFile{root, p})
		}
	}
	checked, err := zip.CheckFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	for _, fe := range checked.Invalid {
		t.Errorf("go install would refuse the module: %s: %v", fe.Path, fe.Err)
	}
	if checked.SizeError != nil {
		t.Errorf("go install would refuse the module: %v", checked.SizeError)
	}
	if len(checked.Valid) == 0 {
		t.Fatal("no file of the module was checked")
	}
}
