package demo

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/discordsim"
)

// feed is what the bot posted, as a person would see it in Discord.
type feed struct {
	dir      string
	Title    string
	channels map[snowflake.ID]string
	// mention names a user, channel or role as Discord shows its mention
	// ("@Zoë ⚔️", "#отчёты"); nil leaves mentions as sent.
	mention func(snowflake.ID) string

	mu    sync.Mutex
	Items []item // what the page shows, in the order it happened
	Final bool   // the demo is over: the page stops refreshing
	seq   int    // files saved so far: their names are numbered in feed order
	seen  map[snowflake.ID]bool
}

type item struct {
	Channel   string
	Author    string
	Time      time.Time
	Command   string // "/week" used by someone, for replies
	Ephemeral bool
	Content   string
	Embeds    []embed
	Images    []string // file names in the output folder
	Files     []string // other attachments (CSV, text tables)
}

type embed struct {
	Title, Description, Footer, Color string
	Fields                            []discord.EmbedField
	Image                             string
}

func (f *feed) save(name string, data []byte) string {
	f.seq++
	file := fmt.Sprintf("%02d-%s", f.seq, strings.ReplaceAll(name, "/", "_"))
	if err := os.WriteFile(filepath.Join(f.dir, file), data, 0o644); err != nil {
		return ""
	}
	return file
}

func (f *feed) toItem(channel, author string, t time.Time, content string, embeds []discord.Embed, files []discordsim.File) item {
	it := item{Channel: channel, Author: author, Time: t, Content: f.mentions(content)}
	attached := map[string]string{}
	// Saved, and so numbered, in the order the page shows them: the embeds'
	// charts, other images, then the other attachments.
	inEmbed := map[string]bool{}
	for _, e := range embeds {
		if e.Image != nil {
			inEmbed[strings.TrimPrefix(e.Image.URL, "attachment://")] = true
		}
	}
	rank := func(f discordsim.File) int {
		switch {
		case inEmbed[f.Name]:
			return 0
		case strings.HasSuffix(f.Name, ".png"):
			return 1
		}
		return 2
	}
	files = slices.Clone(files)
	slices.SortStableFunc(files, func(a, b discordsim.File) int { return rank(a) - rank(b) })
	for _, file := range files {
		saved := f.save(file.Name, file.Data)
		attached[file.Name] = saved
		if strings.HasSuffix(file.Name, ".png") {
			it.Images = append(it.Images, saved)
		} else {
			it.Files = append(it.Files, saved)
		}
	}
	for _, e := range embeds {
		ev := embed{Title: e.Title, Description: f.mentions(e.Description), Color: fmt.Sprintf("#%06x", e.Color)}
		for _, fl := range e.Fields {
			fl.Name, fl.Value = f.mentions(fl.Name), f.mentions(fl.Value)
			ev.Fields = append(ev.Fields, fl)
		}
		if e.Footer != nil {
			ev.Footer = e.Footer.Text
		}
		if e.Image != nil {
			name := strings.TrimPrefix(e.Image.URL, "attachment://")
			ev.Image = attached[name]
			it.Images = remove(it.Images, ev.Image)
		}
		it.Embeds = append(it.Embeds, ev)
	}
	return it
}

// mentionRe is a user (<@id>, <@!id>), role (<@&id>) or channel (<#id>)
// mention as the bot writes it.
var mentionRe = regexp.MustCompile(`<(@!?|@&|#)(\d+)>`)

// mdSpecial are the characters Discord markdown would read in a name.
var mdSpecial = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `_`, `\_`, `~`, `\~`, "`", "\\`", `|`, `\|`, `>`, `\>`)

// mentions writes the mentions in s as Discord shows them, by name: the
// client resolves <#123> to "#отчёты" for whoever reads it.
func (f *feed) mentions(s string) string {
	if f.mention == nil {
		return s
	}
	return mentionRe.ReplaceAllStringFunc(s, func(m string) string {
		id, err := snowflake.Parse(mentionRe.FindStringSubmatch(m)[2])
		if err != nil {
			return m
		}
		return mdSpecial.Replace(f.mention(id))
	})
}

func remove(xs []string, x string) []string {
	out := xs[:0]
	for _, v := range xs {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}

// reply records an interaction's final answer. The driver takes in the
// channel posts before each command (sync), so the feed, and the numbers
// of the files saved for it, stay in the order things happened: the post
// after an event, then the commands used after it.
func (f *feed) reply(command, who string, t time.Time, r *discordsim.Response) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it := f.toItem("команды", "rollcall", t, r.Content, r.Embeds, r.Files)
	it.Command, it.Ephemeral = command+" — "+who, r.Ephemeral
	f.Items = append(f.Items, it)
}

// sync takes in the channel posts the bot made since the last sync, in the
// order it made them.
func (f *feed) sync(sim *discordsim.Server) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = map[snowflake.ID]bool{}
	}
	var posts []discordsim.Message
	for id := range f.channels {
		for _, m := range sim.Messages(id) {
			if m.Interaction || f.seen[m.ID] {
				continue // replies are recorded as they come, with who asked
			}
			f.seen[m.ID] = true
			posts = append(posts, m)
		}
	}
	// Snowflakes grow with time: across channels they give the order of posting.
	sort.Slice(posts, func(i, j int) bool { return posts[i].ID < posts[j].ID })
	for _, m := range posts {
		f.Items = append(f.Items, f.toItem(f.channels[m.ChannelID], "rollcall", m.Timestamp, m.Content, m.Embeds, m.Files))
	}
}

// collect takes in the last posts and marks the feed complete.
func (f *feed) collect(sim *discordsim.Server) {
	f.sync(sim)
	f.mu.Lock()
	f.Final = true
	f.mu.Unlock()
}

func (f *feed) messages() int { return len(f.Items) }

func (f *feed) images() int {
	n := 0
	for _, it := range f.Items {
		n += len(it.Images)
		for _, e := range it.Embeds {
			if e.Image != "" {
				n++
			}
		}
	}
	return n
}

func (f *feed) write() error {
	var buf bytes.Buffer
	f.mu.Lock()
	err := page.Execute(&buf, f)
	f.mu.Unlock()
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(f.dir, "index.html"), buf.Bytes(), 0o644)
}

// handler serves the folder; index.html is rendered live until the end.
func (f *feed) handler() http.Handler {
	files := http.FileServer(http.Dir(f.dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" || r.URL.Path == "/index.html" {
			f.mu.Lock()
			defer f.mu.Unlock()
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = page.Execute(w, f)
			return
		}
		files.ServeHTTP(w, r)
	})
}

var page = template.Must(template.New("feed").Funcs(template.FuncMap{
	"clock":  func(t time.Time) string { return t.In(tz).Format("Mon 2 Jan 15:04") },
	"inline": func(f *bool) bool { return f != nil && *f },
	"md":     markdown,
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
{{if not .Final}}<meta http-equiv="refresh" content="2">{{end}}
<title>{{.Title}}</title>
<style>
 body{margin:0;background:#313338;color:#dbdee1;font:15px/1.4 "Noto Sans","DejaVu Sans",sans-serif}
 main{max-width:900px;margin:0 auto;padding:16px}
 h1{font-size:20px;color:#f2f3f5} .note{color:#949ba4;font-size:13px}
 .msg{display:flex;gap:12px;padding:8px 0;border-top:1px solid #3f4147}
 .avatar{width:40px;height:40px;border-radius:50%;background:#5865f2;flex:none;display:flex;align-items:center;justify-content:center;color:#fff;font-weight:bold}
 .who{color:#f2f3f5;font-weight:600} .tag{background:#5865f2;color:#fff;font-size:10px;border-radius:3px;padding:1px 4px;margin-left:4px}
 .when,.chan{color:#949ba4;font-size:12px;margin-left:6px} .cmd{color:#949ba4;font-size:13px}
 .eph{color:#949ba4;font-size:12px;font-style:italic}
 .embed{background:#2b2d31;border-left:4px solid;border-radius:4px;padding:8px 12px;margin-top:6px;max-width:560px}
 .embed h3{margin:0 0 6px;font-size:15px;color:#f2f3f5} .desc{white-space:pre-wrap}
 .fields{display:flex;flex-wrap:wrap;gap:6px 16px;margin-top:6px} .field{min-width:150px} .field.full{flex-basis:100%}
 .fname{font-weight:600;color:#f2f3f5;font-size:13px} .footer{color:#949ba4;font-size:12px;margin-top:6px}
 pre{background:#1e1f22;padding:6px;border-radius:4px;overflow-x:auto;font-size:12px}
 img{max-width:100%;border-radius:4px;margin-top:6px;display:block} a{color:#00a8fc}
</style></head><body><main>
<h1>#{{.Title}}</h1>
<p class="note">Everything rollcall posted in the simulated server, in order. Replies marked “only you can see this” are ephemeral.{{if not .Final}} The demo is still running; this page refreshes itself.{{end}}</p>
{{range .Items}}<div class="msg"><div class="avatar">R</div><div>
 {{if .Command}}<div class="cmd">↪ {{.Command}}</div>{{end}}
 <span class="who">{{.Author}}</span><span class="tag">BOT</span><span class="chan">#{{.Channel}}</span><span class="when">{{clock .Time}}</span>
 {{if .Ephemeral}}<div class="eph">Only you can see this</div>{{end}}
 {{if .Content}}<div class="desc">{{md .Content}}</div>{{end}}
 {{range .Embeds}}<div class="embed" style="border-color:{{.Color}}">
  {{if .Title}}<h3>{{.Title}}</h3>{{end}}
  {{if .Description}}<div class="desc">{{md .Description}}</div>{{end}}
  {{if .Fields}}<div class="fields">{{range .Fields}}<div class="field{{if not (inline .Inline)}} full{{end}}"><div class="fname">{{md .Name}}</div><div class="desc">{{md .Value}}</div></div>{{end}}</div>{{end}}
  {{if .Image}}<img src="{{.Image}}" alt="chart">{{end}}
  {{if .Footer}}<div class="footer">{{.Footer}}</div>{{end}}
 </div>{{end}}
 {{range .Images}}<img src="{{.}}" alt="attachment">{{end}}
 {{range .Files}}<div>📎 <a href="{{.}}">{{.}}</a></div>{{end}}
</div></div>{{end}}
</main></body></html>
`))

var (
	mdEscaped = regexp.MustCompile("\\\\([\\\\*_~|>`])")
	mdBold    = regexp.MustCompile(`\*\*(.+?)\*\*`)
	mdCode    = regexp.MustCompile("(?s)```\\n?(.*?)```")
)

// markdown renders the little Discord markdown rollcall writes (bold, code
// blocks, backslash escapes) as HTML, escaping everything else.
func markdown(s string) template.HTML {
	var out strings.Builder
	for len(s) > 0 {
		loc := mdCode.FindStringSubmatchIndex(s)
		if loc == nil {
			out.WriteString(inlineMarkdown(s))
			break
		}
		out.WriteString(inlineMarkdown(s[:loc[0]]))
		out.WriteString("<pre>" + template.HTMLEscapeString(s[loc[2]:loc[3]]) + "</pre>")
		s = s[loc[1]:]
	}
	return template.HTML(out.String())
}

func inlineMarkdown(s string) string {
	// Escaped characters become private-use runes so they cannot pair up as
	// markup, then come back as themselves.
	s = mdEscaped.ReplaceAllStringFunc(s, func(m string) string { return string(rune(0xE000 + int(m[1]))) })
	s = template.HTMLEscapeString(s)
	s = mdBold.ReplaceAllString(s, "<b>$1</b>")
	return strings.Map(func(r rune) rune {
		if r >= 0xE000 && r < 0xE080 {
			return r - 0xE000
		}
		return r
	}, s)
}
