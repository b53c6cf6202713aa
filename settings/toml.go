package settings

import (
	"bytes"
	"fmt"

	"github.com/BurntSushi/toml"
)

// TOML writes guilds' settings as the [[guilds]] tables of config.toml: what
// /rollcall export prints, and what config.Parse reads back into the same
// settings.
func TOML(specs ...Spec) (string, error) {
	var buf bytes.Buffer
	enc := toml.NewEncoder(&buf)
	enc.Indent = "  "
	if err := enc.Encode(struct {
		Guilds []Spec `toml:"guilds"`
	}{specs}); err != nil {
		return "", fmt.Errorf("write settings as TOML: %w", err)
	}
	return buf.String(), nil
}
