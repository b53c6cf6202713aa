package commands

import (
	"encoding/json"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
)

// Option readers. disgo's own accessors panic when an option has another
// type than asked for; these say so instead, since a client, an old command
// version or a forged payload can send what Discord's UI never would.

// badOption is the error for an option that cannot be read, naming it as
// the user sees it.
func badOption(r *request, name string) error {
	return inputErr("err_option", r.lang.T("opt_"+name))
}

// str reads a string option; "" when absent.
func (r *request) str(name string) (string, error) {
	o, ok := r.data.Options[name]
	if !ok {
		return "", nil
	}
	var v string
	if o.Type != discord.ApplicationCommandOptionTypeString || json.Unmarshal(o.Value, &v) != nil {
		return "", badOption(r, name)
	}
	return v, nil
}

// flag reads a boolean option; false when absent.
func (r *request) flag(name string) (bool, error) {
	o, ok := r.data.Options[name]
	if !ok {
		return false, nil
	}
	var v bool
	if o.Type != discord.ApplicationCommandOptionTypeBool || json.Unmarshal(o.Value, &v) != nil {
		return false, badOption(r, name)
	}
	return v, nil
}

// id reads a user or role option's snowflake; 0 when absent.
func (r *request) id(name string, typ discord.ApplicationCommandOptionType) (snowflake.ID, error) {
	o, ok := r.data.Options[name]
	if !ok {
		return 0, nil
	}
	var v snowflake.ID
	if o.Type != typ || json.Unmarshal(o.Value, &v) != nil || v == 0 {
		return 0, badOption(r, name)
	}
	return v, nil
}

// common reads the options every command has.
func (r *request) public() (bool, error) { return r.flag("public") }
