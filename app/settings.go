package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgxlisten"

	"rollcall/settings"
	"rollcall/store"
)

// settingsSync keeps the registry's Discord-managed guilds equal to what
// is stored: loaded at start, reloaded one guild at a time when a process
// announces a change (LISTEN rollcall_settings), and all of them after a
// reconnect (a notification may have been missed meanwhile). A change made
// in any process is applied by every other at its next tick, with no
// statement on the ticks themselves.
type settingsSync struct {
	store *store.Store
	reg   *settings.Registry
	log   *slog.Logger
	url   string
	// member applies a member's pause, resume or deletion made in another
	// process (paused nil: deleted).
	member func(guild, user uint64, paused *bool)
}

// loadAll replaces the registry's Discord-managed guilds with the stored ones.
func (s *settingsSync) loadAll(ctx context.Context) error {
	all, err := s.store.GuildSettings(ctx)
	if err != nil {
		return err
	}
	stored := map[uint64]bool{}
	for _, st := range all {
		stored[st.GuildID] = true
		s.put(st)
	}
	for _, g := range s.reg.All() {
		if g.Source == settings.FromDiscord && !stored[g.ID] {
			s.reg.Remove(g.ID)
		}
	}
	return nil
}

// loadOne reloads one guild's settings.
func (s *settingsSync) loadOne(ctx context.Context, guild uint64) error {
	st, err := s.store.GuildSetting(ctx, guild)
	if errors.Is(err, store.ErrNotFound) {
		s.reg.Remove(guild)
		return nil
	}
	if err != nil {
		return err
	}
	s.put(st)
	return nil
}

func (s *settingsSync) put(st store.StoredSettings) {
	spec, err := settings.ParseStored(st.Spec)
	if err != nil {
		s.log.Error("stored settings cannot be read; the guild keeps its previous settings", slog.Uint64("guild_id", st.GuildID), slog.Any("error", err))
		return
	}
	g, ps := settings.Validate(spec, "", settings.FromDiscord)
	if ps != nil {
		// Saved settings were valid when saved; a newer rollcall may judge
		// them otherwise. Say what to fix; keep what was running.
		s.log.Error("stored settings no longer valid; the guild keeps its previous settings until a moderator fixes them with /rollcall",
			slog.Uint64("guild_id", st.GuildID), slog.Any("error", ps))
		return
	}
	g.Version = st.Version
	s.reg.Put(g)
}

// listen follows changes until ctx ends.
func (s *settingsSync) listen(ctx context.Context) {
	l := &pgxlisten.Listener{
		Connect: func(ctx context.Context) (*pgx.Conn, error) {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			return pgx.Connect(cctx, s.url)
		},
		LogError: func(_ context.Context, err error) {
			if ctx.Err() == nil {
				s.log.Warn("settings changes: listener", slog.Any("error", err))
			}
		},
		ReconnectDelay: 5 * time.Second,
	}
	l.Handle(store.SettingsChannel, s)
	l.Handle(store.PrivacyChannel, pgxlisten.HandlerFunc(s.memberChanged))
	_ = l.Listen(ctx)
}

// HandleNotification reloads the guild a change was announced for.
func (s *settingsSync) HandleNotification(ctx context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	guild, err := strconv.ParseUint(n.Payload, 10, 64)
	if err != nil {
		return fmt.Errorf("settings notification %q: %w", n.Payload, err)
	}
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return s.loadOne(lctx, guild)
}

// memberChanged applies a member's pause, resume or deletion announced by
// any process (this one too: applying it twice is harmless).
func (s *settingsSync) memberChanged(ctx context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	g, u, ok := strings.Cut(n.Payload, ":")
	guild, err1 := strconv.ParseUint(g, 10, 64)
	user, err2 := strconv.ParseUint(u, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return fmt.Errorf("privacy notification %q", n.Payload)
	}
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var paused *bool
	if err := s.store.Snapshot(lctx, func(q *store.Queries) (err error) {
		paused, err = q.PausedChoice(lctx, guild, user)
		return err
	}); err != nil {
		return err
	}
	if s.member != nil {
		s.member(guild, user, paused)
	}
	return nil
}

// HandleBacklog reloads everything after (re)connecting.
func (s *settingsSync) HandleBacklog(ctx context.Context, _ string, _ *pgx.Conn) error {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return s.loadAll(lctx)
}
