package discordsim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Discord's rules for registering application commands ("Application
// Command Naming", "Registering a Command" and the option structure in
// Discord's docs), which the OpenAPI spec carries only in part: a command
// Discord would refuse is refused here with the same 50035 shape.

// commandName is Discord's rule for command and option names and their
// localizations: ^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$ (Go spells the
// scripts \p{Devanagari}, \p{Thai}), and a letter with a lowercase form must
// be lowercase (checked apart, see validName).
var commandName = regexp.MustCompile(`^[-_\p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)

// Discord's limits.
const (
	maxOptions         = 25   // options (subcommands and groups included) per level
	maxChoices         = 25   // choices per option
	maxCommandChars    = 8000 // names, descriptions, choice names and values of a command, together
	maxStringOptionLen = 6000 // min_length/max_length of a string option
)

// maxCommandsByType is how many commands of each type an app may have in
// one scope (global, or one guild): 100 CHAT_INPUT, 15 USER, 15 MESSAGE,
// 1 PRIMARY_ENTRY_POINT.
var maxCommandsByType = map[int]int{1: 100, 2: 15, 3: 15, 4: 1}

// discordLocales are the locales Discord accepts as localization keys.
var discordLocales = map[string]bool{
	"id": true, "da": true, "de": true, "en-GB": true, "en-US": true, "es-ES": true, "es-419": true,
	"fr": true, "hr": true, "it": true, "lt": true, "hu": true, "nl": true, "no": true, "pl": true,
	"pt-BR": true, "ro": true, "fi": true, "sv-SE": true, "vi": true, "tr": true, "cs": true, "el": true,
	"bg": true, "ru": true, "uk": true, "hi": true, "th": true, "zh-CN": true, "ja": true, "zh-TW": true, "ko": true,
}

type cmdChoice struct {
	Name              string            `json:"name"`
	NameLocalizations map[string]string `json:"name_localizations"`
	Value             json.RawMessage   `json:"value"`
}

type cmdOption struct {
	Name                     string            `json:"name"`
	NameLocalizations        map[string]string `json:"name_localizations"`
	Type                     int               `json:"type"`
	Description              string            `json:"description"`
	DescriptionLocalizations map[string]string `json:"description_localizations"`
	Required                 bool              `json:"required"`
	Autocomplete             bool              `json:"autocomplete"`
	Choices                  []cmdChoice       `json:"choices"`
	Options                  []cmdOption       `json:"options"`
	MinValue                 *float64          `json:"min_value"`
	MaxValue                 *float64          `json:"max_value"`
	MinLength                *int              `json:"min_length"`
	MaxLength                *int              `json:"max_length"`
}

// cmdIn is the part of a command create body the simulator reads.
type cmdIn struct {
	Name                     string            `json:"name"`
	NameLocalizations        map[string]string `json:"name_localizations"`
	Type                     *int              `json:"type"`
	Description              string            `json:"description"`
	DescriptionLocalizations map[string]string `json:"description_localizations"`
	Options                  []cmdOption       `json:"options"`
	DefaultMemberPermissions json.RawMessage   `json:"default_member_permissions"`
	IntegrationTypes         []int             `json:"integration_types"`
}

func (in *cmdIn) typ() int {
	if in.Type == nil {
		return 1
	}
	return *in.Type
}

func invalidName() obj {
	return fieldError("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
}

func badLength(lo, hi int) obj {
	return fieldError("BASE_TYPE_BAD_LENGTH", fmt.Sprintf("Must be between %d and %d in length.", lo, hi))
}

func maxLength(n int) obj {
	return fieldError("BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", n))
}

// validName checks a command or option name (or one of its localizations).
// Chat-input commands and every option follow commandName in lowercase;
// user and message commands may have any 1-32 characters, spaces and
// capitals included.
func validName(name string, strict bool) bool {
	if !strict {
		n := utf8.RuneCountInString(name)
		return n >= 1 && n <= 32
	}
	return commandName.MatchString(name) && strings.ToLower(name) == name
}

// validateLocalizations checks a localization map: known locales, values
// valid as names (names) or 1-100 characters (descriptions).
func validateLocalizations(m map[string]string, names, strict bool) obj {
	errs := obj{}
	for loc, v := range m {
		switch {
		case !discordLocales[loc]:
			errs[loc] = fieldError("LOCALE_INVALID", fmt.Sprintf("Invalid locale %q.", loc))
		case names && !validName(v, strict):
			errs[loc] = invalidName()
		case !names && (utf8.RuneCountInString(v) < 1 || utf8.RuneCountInString(v) > 100):
			errs[loc] = badLength(1, 100)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// validateCommand applies Discord's rules to one command create body and
// returns its errors in Discord's shape (nil when valid).
func validateCommand(in *cmdIn) obj {
	ce := obj{}
	typ := in.typ()
	if typ < 1 || typ > 4 {
		ce["type"] = fieldError("BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3, 4).")
	}
	chat := typ == 1
	if !validName(in.Name, chat) {
		ce["name"] = invalidName()
	}
	if e := validateLocalizations(in.NameLocalizations, true, chat); e != nil {
		ce["name_localizations"] = e
	}
	n := utf8.RuneCountInString(in.Description)
	switch {
	case chat && (n < 1 || n > 100):
		ce["description"] = badLength(1, 100)
	case !chat && n > 0:
		// User and message commands have no description.
		ce["description"] = fieldError("APPLICATION_COMMAND_DESCRIPTION_INVALID", "Description must be empty for this command type")
	}
	if e := validateLocalizations(in.DescriptionLocalizations, false, chat); e != nil {
		ce["description_localizations"] = e
	}
	if !chat && len(in.Options) > 0 {
		ce["options"] = fieldError("APPLICATION_COMMAND_OPTIONS_INVALID", "Only chat input commands can have options")
	} else if oe := validateOptions(in.Options, 0); oe != nil {
		ce["options"] = oe
	}
	if dmp := strings.TrimSpace(string(in.DefaultMemberPermissions)); dmp != "" && dmp != "null" {
		var str string
		if json.Unmarshal(in.DefaultMemberPermissions, &str) != nil {
			// Discord also takes a bare integer, but disgo and practice use a string.
			var n uint64
			if json.Unmarshal(in.DefaultMemberPermissions, &n) != nil {
				ce["default_member_permissions"] = fieldError("NUMBER_TYPE_COERCE", "Value is not int.")
			}
		} else if _, err := strconv.ParseUint(str, 10, 64); err != nil {
			ce["default_member_permissions"] = fieldError("NUMBER_TYPE_COERCE", fmt.Sprintf("Value %q is not int.", str))
		}
	}
	if len(ce) == 0 && commandChars(in) > maxCommandChars {
		ce["_errors"] = fieldError("APPLICATION_COMMAND_TOO_LARGE",
			fmt.Sprintf("Command exceeds maximum size (%d)", maxCommandChars))["_errors"]
	}
	if len(ce) == 0 {
		return nil
	}
	return ce
}

// validateOptions checks one level of options: depth 0 is the command's
// own, 1 a subcommand group's or subcommand's, 2 a grouped subcommand's.
// A level holds either subcommands and groups, or plain options, never
// both; a group holds only subcommands, a subcommand only plain options.
func validateOptions(opts []cmdOption, depth int) obj {
	errs := obj{}
	if len(opts) > maxOptions {
		errs["_errors"] = maxLength(maxOptions)["_errors"]
	}
	subs, plain := 0, 0
	for _, o := range opts {
		if o.Type == 1 || o.Type == 2 {
			subs++
		} else {
			plain++
		}
	}
	if subs > 0 && plain > 0 {
		errs["_errors"] = fieldError("APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
			"Sub-command and sub-command group option types are mutually exclusive to all other types")["_errors"]
	}
	seenOptional := false
	names := map[string]bool{}
	for i, o := range opts {
		oe := obj{}
		if !validName(o.Name, true) {
			oe["name"] = invalidName()
		} else if names[o.Name] {
			oe["name"] = fieldError("APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS", "Option names must be unique")
		}
		names[o.Name] = true
		if e := validateLocalizations(o.NameLocalizations, true, true); e != nil {
			oe["name_localizations"] = e
		}
		if n := utf8.RuneCountInString(o.Description); n < 1 || n > 100 {
			oe["description"] = badLength(1, 100)
		}
		if e := validateLocalizations(o.DescriptionLocalizations, false, true); e != nil {
			oe["description_localizations"] = e
		}
		if o.Type < 1 || o.Type > 11 {
			oe["type"] = fieldError("BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11).")
		}
		switch {
		case o.Type == 2 && depth > 0, o.Type == 1 && depth > 1:
			// Groups only at the top; subcommands at the top or in a group.
			oe["type"] = fieldError("APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Sub-commands cannot be nested this deep")
		case o.Type == 2:
			for _, sub := range o.Options {
				if sub.Type != 1 {
					oe["options"] = fieldError("APPLICATION_COMMAND_OPTION_TYPE_INVALID", "A sub-command group may only contain sub-commands")
				}
			}
		}
		if o.Type == 1 || o.Type == 2 {
			if o.Required {
				oe["required"] = fieldError("APPLICATION_COMMAND_OPTION_REQUIRED_INVALID", "Sub-commands and groups cannot be required")
			}
		} else {
			if len(o.Options) > 0 {
				oe["options"] = fieldError("APPLICATION_COMMAND_OPTIONS_INVALID", "Only sub-commands and groups have options")
			}
			if o.Required && seenOptional {
				oe["required"] = fieldError("APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options must be placed before non-required options")
			}
			if !o.Required {
				seenOptional = true
			}
		}
		if o.Autocomplete && len(o.Choices) > 0 {
			oe["autocomplete"] = fieldError("AUTOCOMPLETE_CHOICES_INVALID", "Autocomplete cannot be used with choices")
		}
		if ce := validateChoices(o); ce != nil {
			oe["choices"] = ce
		}
		if (o.MinValue != nil || o.MaxValue != nil) && o.Type != 4 && o.Type != 10 {
			oe["min_value"] = fieldError("APPLICATION_COMMAND_OPTION_MIN_VALUE_INVALID", "Only integer and number options have a minimum or maximum value")
		}
		if o.MinValue != nil && o.MaxValue != nil && *o.MinValue > *o.MaxValue {
			oe["max_value"] = fieldError("NUMBER_TYPE_MIN", "max_value must not be below min_value")
		}
		for key, v := range map[string]*int{"min_length": o.MinLength, "max_length": o.MaxLength} {
			switch {
			case v == nil:
			case o.Type != 3:
				oe[key] = fieldError("APPLICATION_COMMAND_OPTION_LENGTH_INVALID", "Only string options have a length")
			case *v < 0 || *v > maxStringOptionLen || (key == "max_length" && *v < 1):
				oe[key] = fieldError("NUMBER_TYPE_MAX", fmt.Sprintf("int value should be between 0 and %d.", maxStringOptionLen))
			}
		}
		if o.Type == 1 || o.Type == 2 {
			if sub := validateOptions(o.Options, depth+1); sub != nil {
				oe["options"] = sub
			}
		}
		if len(oe) > 0 {
			errs[strconv.Itoa(i)] = oe
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// validateChoices checks an option's choices: at most 25, only on string,
// integer and number options, names of 1-100 characters, string values of
// at most 100 and numeric values for numeric options.
func validateChoices(o cmdOption) obj {
	if len(o.Choices) == 0 {
		return nil
	}
	if o.Type != 3 && o.Type != 4 && o.Type != 10 {
		return fieldError("APPLICATION_COMMAND_OPTION_CHOICES_INVALID", "Only string, integer and number options have choices")
	}
	if len(o.Choices) > maxChoices {
		return maxLength(maxChoices)
	}
	errs := obj{}
	for i, c := range o.Choices {
		ce := obj{}
		if n := utf8.RuneCountInString(c.Name); n < 1 || n > 100 {
			ce["name"] = badLength(1, 100)
		}
		if e := validateLocalizations(c.NameLocalizations, false, false); e != nil {
			ce["name_localizations"] = e
		}
		var str string
		var num float64
		switch {
		case o.Type == 3 && json.Unmarshal(c.Value, &str) == nil:
			if n := utf8.RuneCountInString(str); n < 1 || n > 100 {
				ce["value"] = badLength(1, 100)
			}
		case o.Type == 4 && json.Unmarshal(c.Value, &num) == nil && num == float64(int64(num)):
		case o.Type == 10 && json.Unmarshal(c.Value, &num) == nil:
		default:
			ce["value"] = fieldError("MODEL_TYPE_CONVERT", "Could not interpret the value as the option's type.")
		}
		if len(ce) > 0 {
			errs[strconv.Itoa(i)] = ce
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// commandChars counts what Discord's 8000-character limit counts: the
// command's name and description and those of all its options, with
// choice names and values; for each, the longest of the default and its
// localizations.
func commandChars(in *cmdIn) int {
	longest := func(s string, loc map[string]string) int {
		n := utf8.RuneCountInString(s)
		for _, v := range loc {
			n = max(n, utf8.RuneCountInString(v))
		}
		return n
	}
	total := longest(in.Name, in.NameLocalizations) + longest(in.Description, in.DescriptionLocalizations)
	var walk func([]cmdOption)
	walk = func(opts []cmdOption) {
		for _, o := range opts {
			total += longest(o.Name, o.NameLocalizations) + longest(o.Description, o.DescriptionLocalizations)
			for _, c := range o.Choices {
				total += longest(c.Name, c.NameLocalizations)
				if v, ok := choiceString(c.Value); ok {
					total += utf8.RuneCountInString(v)
				} else {
					total += len(c.Value)
				}
			}
			walk(o.Options)
		}
	}
	walk(in.Options)
	return total
}

func choiceString(raw json.RawMessage) (string, bool) {
	var v string
	return v, json.Unmarshal(raw, &v) == nil
}

// permissionsString renders default_member_permissions as Discord answers
// it: a string of digits, whether it was sent as a string or a number.
func permissionsString(raw json.RawMessage) any {
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str
	}
	var n uint64
	if json.Unmarshal(raw, &n) == nil {
		return strconv.FormatUint(n, 10)
	}
	return nil
}
