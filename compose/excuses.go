package compose

import (
	"context"
	"fmt"
	"time"

	"rollcall/settings"
	"rollcall/store"
	"rollcall/view"
)

// ExcuseLines describe the excuses in force, newest first: of one member
// (userID non-zero) or of everyone, only those still covering something at
// or after since. A moderator's list (full) says whose, by whom and when;
// a member's own says what and why.
func (r *Reports) ExcuseLines(ctx context.Context, g *settings.Guild, l view.Lang, userID uint64, since time.Time, limit int, full bool) ([]string, error) {
	var es []store.Excuse
	names := map[uint64]string{}
	occs := map[int64]store.Occurrence{}
	err := r.Store.Snapshot(ctx, func(q *store.Queries) error {
		var err error
		if es, err = q.Excuses(ctx, g.ID, userID, 200); err != nil {
			return err
		}
		for _, e := range es {
			if e.OccurrenceID != 0 {
				if occs[e.OccurrenceID], err = q.GetOccurrence(ctx, e.OccurrenceID); err != nil {
					return err
				}
			}
		}
		ms, err := q.Members(ctx, g.ID)
		for _, m := range ms {
			names[m.UserID] = m.Name()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, e := range es {
		if len(lines) == limit {
			break
		}
		what := l.ExcuseSpan(e.From.In(g.Location), e.To.In(g.Location))
		if e.OccurrenceID != 0 {
			o := occs[e.OccurrenceID]
			if o.End.Before(since) {
				continue
			}
			what = l.OccurrenceLabel(o, g.Location)
		} else if !e.To.After(since) {
			continue
		}
		if full {
			lines = append(lines, l.T("ex_line", e.ID, view.Escape(names[e.UserID]), view.Escape(what), view.Escape(e.Reason),
				view.Escape(e.AuthorName), fmt.Sprintf("<t:%d:d>", e.CreatedAt.Unix())))
		} else {
			lines = append(lines, view.Escape(what)+" · "+view.Escape(e.Reason))
		}
	}
	return lines, nil
}
