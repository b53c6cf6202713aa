//go:build !unix

package render

import (
	"io/fs"
	"os"
)

// Without flock(2) a live profile cannot be told from a stale one, so none
// is ever removed.

func flock(*os.File) error       { return nil }
func tryFlock(*os.File) bool     { return false }
func ownedByMe(fs.FileInfo) bool { return false }
func killPID(int)                {}
