package legacy

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"rollcall/store"
)

// row is one row of the original table as read, before validation. A field
// whose ok flag is false was NULL (or empty in a CSV file).
type row struct {
	id       int64
	idOK     bool
	line     int // CSV line number; 0 for a table row
	player   int64
	playerOK bool
	score    string // Postgres array text, e.g. "{1,2,3}"
	scoreOK  bool
	date     time.Time // midnight UTC of the event's local date
	dateOK   bool
	hour     int64
	hourOK   bool
	// problem is set when the row could not even be parsed.
	problem string
}

// ref names the row in the skipped list: the CSV line, the id, or both.
func (r *row) ref() string {
	switch {
	case r.line > 0 && r.idOK:
		return fmt.Sprintf("line %d (id %d)", r.line, r.id)
	case r.line > 0:
		return fmt.Sprintf("line %d", r.line)
	case r.idOK:
		return fmt.Sprintf("id %d", r.id)
	default:
		return "row with null id"
	}
}

// reader yields rows of the original table; io.EOF at the end.
type reader interface {
	read() (row, error)
	close()
}

// allMinutes is the coverage of an imported event: the original bot sampled
// every minute of its one-hour events.
const allMinutes = 1<<60 - 1

// parseMinutes reads a Postgres integer array such as "{1,2,3}" into a mask
// of minutes 0-59. reason says why the array is refused.
func parseMinutes(s string) (mask uint64, reason string) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return 0, fmt.Sprintf("score %q is not an array of minutes", s)
	}
	body := s[1 : len(s)-1]
	if strings.TrimSpace(body) == "" {
		return 0, "score is an empty array"
	}
	// Hand-rolled rather than strings.Split: a million rows pass through here.
	for len(body) > 0 {
		i := strings.IndexByte(body, ',')
		var el string
		if i < 0 {
			el, body = body, ""
		} else {
			el, body = body[:i], body[i+1:]
		}
		el = strings.TrimSpace(el)
		if strings.EqualFold(el, "NULL") {
			return 0, "score holds a null minute"
		}
		m, err := strconv.Atoi(el)
		if err != nil {
			return 0, fmt.Sprintf("score %q is not an array of minutes", s)
		}
		if m < 0 || m > 59 {
			return 0, fmt.Sprintf("minute %d outside 0-59", m)
		}
		mask |= 1 << m
	}
	return mask, ""
}

// entries validates rows and turns them into store entries; it is the
// store.LegacySource of an import. Invalid rows are counted and the first
// maxListed of them kept with their reason.
type entries struct {
	r        reader
	loc      *time.Location
	starts   map[int64]time.Time // (date, hour) -> start, computed once per event
	cur      store.LegacyEntry
	err      error
	read     int64
	skipped  int64
	listed   []string
	progress func(read int64, done bool)
}

// maxListed caps the skipped rows printed: a badly broken table should not
// flood the terminal.
const maxListed = 50

func newEntries(r reader, loc *time.Location) *entries {
	return &entries{r: r, loc: loc, starts: map[int64]time.Time{}}
}

// Next implements store.LegacySource.
func (e *entries) Next() bool {
	for e.err == nil {
		r, err := e.r.read()
		if errors.Is(err, io.EOF) {
			if e.progress != nil {
				e.progress(e.read, true)
			}
			return false
		}
		if err != nil {
			e.err = err
			return false
		}
		e.read++
		if e.progress != nil && e.read%8192 == 0 {
			e.progress(e.read, false)
		}
		ent, reason := e.validate(&r)
		if reason != "" {
			e.skipped++
			if len(e.listed) < maxListed {
				e.listed = append(e.listed, r.ref()+": "+reason)
			}
			continue
		}
		e.cur = ent
		return true
	}
	return false
}

// Entry implements store.LegacySource.
func (e *entries) Entry() store.LegacyEntry { return e.cur }

// Err implements store.LegacySource.
func (e *entries) Err() error { return e.err }

func (e *entries) validate(r *row) (store.LegacyEntry, string) {
	switch {
	case r.problem != "":
		return store.LegacyEntry{}, r.problem
	case !r.playerOK:
		return store.LegacyEntry{}, "player_id is null"
	case r.player <= 0:
		return store.LegacyEntry{}, fmt.Sprintf("player_id %d is not a Discord id", r.player)
	case !r.dateOK:
		return store.LegacyEntry{}, "data_bzs is null"
	case !r.hourOK:
		return store.LegacyEntry{}, "hour is null"
	case r.hour < 0 || r.hour > 23:
		return store.LegacyEntry{}, fmt.Sprintf("hour %d outside 0-23", r.hour)
	case !r.scoreOK:
		return store.LegacyEntry{}, "score is null"
	}
	mask, reason := parseMinutes(r.score)
	if reason != "" {
		return store.LegacyEntry{}, reason
	}
	y, m, d := r.date.Date()
	key := int64(y)<<16 | int64(m)<<11 | int64(d)<<6 | r.hour
	start, ok := e.starts[key]
	if !ok {
		// time.Date, as attendance.Schedule.Occurrences uses, so an imported
		// event gets exactly the start the bot would have given it, DST
		// gaps and repeats included.
		start = time.Date(y, m, d, int(r.hour), 0, 0, 0, e.loc)
		e.starts[key] = start
	}
	return store.LegacyEntry{UserID: uint64(r.player), Start: start, Minutes: mask}, ""
}

// identRE is an unquoted SQL identifier, optionally schema-qualified. Only
// names are accepted, never SQL: the name is quoted with pgx.Identifier.
var identRE = regexp.MustCompile(`^[\p{L}_][\p{L}\p{N}_$]*(\.[\p{L}_][\p{L}\p{N}_$]*)?$`)

// parseTable validates a table name as the original bot would have written
// it in its unquoted SQL, where Postgres folds ASCII letters to lower case.
func parseTable(name string) (pgx.Identifier, error) {
	if !identRE.MatchString(name) {
		return nil, fmt.Errorf("--table %q is not a table name: use letters, digits and _, optionally schema.table (e.g. bzs_stats or public.bzs_stats)", name)
	}
	parts := strings.Split(name, ".")
	for i, p := range parts {
		if len(p) > 63 {
			return nil, fmt.Errorf("--table %q: %q is longer than Postgres's 63-byte limit for names", name, p)
		}
		parts[i] = asciiLower(p)
	}
	return pgx.Identifier(parts), nil
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// tableReader streams the original table from Postgres. pgx reads rows off
// the socket as they are iterated, so memory stays flat however big the
// table is.
type tableReader struct {
	conn *pgx.Conn
	rows pgx.Rows
	name string
}

// openTable connects to the source database and starts reading the table.
// estimate is Postgres's idea of the row count, or -1 when it has none.
func openTable(ctx context.Context, url string, table pgx.Identifier) (tr *tableReader, estimate int64, err error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's parse errors can quote the URL, password included.
		return nil, 0, errors.New("--from: not a valid PostgreSQL URL (postgres://user:password@host:5432/dbname)")
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, 0, fmt.Errorf("connect to source database %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	name := table.Sanitize()
	var found bool
	// to_regclass takes the quoted name as text and returns NULL, not an
	// error, when the table does not exist.
	err = conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL, coalesce((SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass($1)), -1)`, name).Scan(&found, &estimate)
	if err != nil {
		conn.Close(ctx)
		return nil, 0, fmt.Errorf("look up table %s: %w", name, err)
	}
	if !found {
		conn.Close(ctx)
		return nil, 0, fmt.Errorf("table %s does not exist in source database %s:%d/%s (--table names the original bot's table, e.g. bzs_stats or public.bzs_stats)", name, cfg.Host, cfg.Port, cfg.Database)
	}
	// score as text: the same parser as the CSV path then applies, and an
	// array holding NULL is reported rather than failing the scan.
	rows, err := conn.Query(ctx, `SELECT id::bigint, player_id::bigint, score::text, data_bzs::date, hour::bigint FROM `+name)
	if err != nil {
		conn.Close(ctx)
		return nil, 0, describeSourceError(name, err)
	}
	return &tableReader{conn: conn, rows: rows, name: name}, estimate, nil
}

func describeSourceError(name string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "42703" || pe.Code == "42846") {
		// undefined_column, cannot_coerce
		return fmt.Errorf("table %s is not the original bot's table (want columns id integer, player_id bigint, score integer[], data_bzs date, hour integer): %s", name, pe.Message)
	}
	return fmt.Errorf("read table %s: %w", name, err)
}

func (t *tableReader) read() (row, error) {
	if !t.rows.Next() {
		if err := t.rows.Err(); err != nil {
			return row{}, describeSourceError(t.name, err)
		}
		return row{}, io.EOF
	}
	var id, player, hour *int64
	var score *string
	var date pgtype.Date
	if err := t.rows.Scan(&id, &player, &score, &date, &hour); err != nil {
		return row{}, fmt.Errorf("read table %s: %w", t.name, err)
	}
	var r row
	if id != nil {
		r.id, r.idOK = *id, true
	}
	if player != nil {
		r.player, r.playerOK = *player, true
	}
	if score != nil {
		r.score, r.scoreOK = *score, true
	}
	if hour != nil {
		r.hour, r.hourOK = *hour, true
	}
	if date.Valid {
		if date.InfinityModifier != pgtype.Finite {
			r.problem = "data_bzs is infinite"
		}
		r.date, r.dateOK = date.Time, true
	}
	return r, nil
}

func (t *tableReader) close() {
	t.rows.Close()
	t.conn.Close(context.Background())
}

// csvReader streams a CSV export of the original table, as
// `\copy bzs_stats TO 'f.csv' CSV HEADER` writes it.
type csvReader struct {
	f    *os.File
	cr   *csv.Reader
	cols [5]int // index of id, player_id, score, data_bzs, hour; -1 if absent
	need int    // fields a record must have
	// skipped is how many lines were dropped before the CSV reader (a
	// PowerShell #TYPE line), added to its line numbers.
	skipped int
}

var csvColumns = [5]string{"id", "player_id", "score", "data_bzs", "hour"}

// utf8BOM is the byte-order mark PowerShell's Export-Csv -Encoding UTF8,
// Python's "utf-8-sig" and spreadsheet programs write first.
const utf8BOM = "\ufeff"

func openCSV(path string) (*csvReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open --csv file: %w", err)
	}
	br := bufio.NewReaderSize(f, 1<<16)
	// The mark goes before encoding/csv sees the first byte: the reader
	// takes it for the start of an unquoted field, so a quoted header
	// ("\ufeff\"id\",...", as Export-Csv and csv.QUOTE_ALL write it) was
	// refused with `bare " in non-quoted-field`.
	if b, _ := br.Peek(len(utf8BOM)); string(b) == utf8BOM {
		_, _ = br.Discard(len(utf8BOM))
	}
	// Windows PowerShell's Export-Csv writes a type line above the header
	// unless told -NoTypeInformation.
	skipped := 0
	if b, _ := br.Peek(len("#TYPE ")); string(b) == "#TYPE " {
		if _, err := br.ReadString('\n'); err != nil && !errors.Is(err, io.EOF) {
			f.Close()
			return nil, fmt.Errorf("read --csv %s: %w", path, err)
		}
		skipped = 1
	}
	cr := csv.NewReader(br)
	// Field counts are checked per record so a short line is one skipped
	// row, not the end of the import.
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		f.Close()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("--csv %s is empty: want a header row id,player_id,score,data_bzs,hour", path)
		}
		return nil, fmt.Errorf("read header of --csv %s: %w", path, err)
	}
	c := &csvReader{f: f, cr: cr, cols: [5]int{-1, -1, -1, -1, -1}, skipped: skipped}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		for k, name := range csvColumns {
			if h == name {
				c.cols[k] = i
				c.need = max(c.need, i+1)
			}
		}
	}
	for k, name := range csvColumns {
		if k > 0 && c.cols[k] < 0 { // id is optional: it only names rows in the skipped list
			f.Close()
			return nil, fmt.Errorf("--csv %s: the header has no %s column: want id,player_id,score,data_bzs,hour in any order, as `\\copy TABLE TO 'FILE' CSV HEADER` writes", path, name)
		}
	}
	return c, nil
}

func (c *csvReader) read() (row, error) {
	rec, err := c.cr.Read()
	if errors.Is(err, io.EOF) {
		return row{}, io.EOF
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return row{line: c.skipped + pe.StartLine, problem: "unparseable CSV: " + pe.Err.Error()}, nil
	}
	if err != nil {
		return row{}, fmt.Errorf("read --csv: %w", err)
	}
	line, _ := c.cr.FieldPos(0)
	r := row{line: c.skipped + line}
	if len(rec) < c.need {
		r.problem = fmt.Sprintf("unparseable CSV: %d fields, the header has at least %d", len(rec), c.need)
		return r, nil
	}
	num := func(k int, v *int64, ok *bool) {
		s := strings.TrimSpace(rec[c.cols[k]])
		if s == "" || r.problem != "" {
			return
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			r.problem = fmt.Sprintf("unparseable CSV: %s %q is not a whole number", csvColumns[k], s)
			return
		}
		*v, *ok = n, true
	}
	if c.cols[0] >= 0 {
		num(0, &r.id, &r.idOK)
	}
	num(1, &r.player, &r.playerOK)
	num(4, &r.hour, &r.hourOK)
	if s := strings.TrimSpace(rec[c.cols[2]]); s != "" {
		r.score, r.scoreOK = s, true
	}
	if s := strings.TrimSpace(rec[c.cols[3]]); s != "" && r.problem == "" {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			r.problem = fmt.Sprintf("unparseable CSV: data_bzs %q is not a date like 2021-11-28", s)
		} else {
			r.date, r.dateOK = d, true
		}
	}
	return r, nil
}

func (c *csvReader) close() { c.f.Close() }
