package settings

import (
	_ "embed"
	"strings"
)

//go:embed zones.txt
var zonesText string

// Zones are the IANA time zones a pick list offers (any IANA name is
// accepted where a zone is asked for).
var Zones = func() []string {
	var out []string
	for _, l := range strings.Split(zonesText, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}()

// localeZones suggests a zone for a Discord locale: the one most of its
// speakers live in.
var localeZones = map[string]string{
	"ru": "Europe/Moscow", "uk": "Europe/Kyiv", "en-GB": "Europe/London", "en-US": "America/New_York",
	"de": "Europe/Berlin", "fr": "Europe/Paris", "es-ES": "Europe/Madrid", "es-419": "America/Mexico_City",
	"pt-BR": "America/Sao_Paulo", "it": "Europe/Rome", "nl": "Europe/Amsterdam", "pl": "Europe/Warsaw",
	"tr": "Europe/Istanbul", "ja": "Asia/Tokyo", "ko": "Asia/Seoul", "zh-CN": "Asia/Shanghai", "zh-TW": "Asia/Taipei",
	"sv-SE": "Europe/Stockholm", "fi": "Europe/Helsinki", "da": "Europe/Copenhagen", "no": "Europe/Oslo",
	"cs": "Europe/Prague", "hu": "Europe/Budapest", "ro": "Europe/Bucharest", "bg": "Europe/Sofia",
	"el": "Europe/Athens", "lt": "Europe/Vilnius", "hr": "Europe/Zagreb", "hi": "Asia/Kolkata",
	"th": "Asia/Bangkok", "vi": "Asia/Ho_Chi_Minh", "id": "Asia/Jakarta",
}

// SuggestZone is a guess at a guild's zone from its Discord locale, or "".
func SuggestZone(locale string) string {
	if z, ok := localeZones[locale]; ok {
		return z
	}
	if i := strings.IndexByte(locale, '-'); i > 0 {
		return localeZones[locale[:i]]
	}
	return ""
}
