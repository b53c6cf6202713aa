//go:build !unix

package localpg

import (
	"context"
	"errors"
	"log/slog"
)

// ErrNoBinaries is returned by Start when no PostgreSQL server binaries
// can be found; on this system, always.
var ErrNoBinaries = errors.New("a private PostgreSQL is supported on Linux and other Unix systems only: configure a database URL")

// ErrInUse is returned by Start when another process already runs a server
// on the data directory.
var ErrInUse = errors.New("in use by another process")

// Options configure Start.
type Options struct {
	DataDir string
	BinDir  string
	Logger  *slog.Logger
	Port    int
}

// Server is a running private PostgreSQL server.
type Server struct{}

// Start fails: see ErrNoBinaries.
func Start(ctx context.Context, opts Options) (*Server, error) { return nil, ErrNoBinaries }

// URL is never reached.
func (s *Server) URL() string { return "" }

// LogPath is never reached.
func (s *Server) LogPath() string { return "" }

// Running is never reached.
func (s *Server) Running() bool { return false }

// Stop does nothing.
func (s *Server) Stop(ctx context.Context) error { return nil }

// SocketDir is never reached.
func (s *Server) SocketDir() string { return "" }

// Info describes a private database without starting it.
type Info struct {
	DataDir, LogPath, SocketDir, URL string
	Created                          bool
	PID, OwnerPID                    int
}

// Running is always false here.
func (i Info) Running() bool { return false }

// InUse is always false here.
func (i Info) InUse() bool { return false }

// Inspect fails: see ErrNoBinaries.
func Inspect(dataDir string) (Info, error) { return Info{}, ErrNoBinaries }
