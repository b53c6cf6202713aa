package discordsim

// Wire payloads are built here as plain maps that follow Discord's
// documented JSON, never by marshalling disgo's structs: the point of the
// simulator is to test disgo's decoding, which marshalling its own types
// would make circular.

import (
	"strconv"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

// obj is a JSON object under construction.
type obj = map[string]any

// timestamp formats t as Discord does (ISO8601 with microseconds and an
// explicit +00:00 offset).
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000+00:00")
}

// idOrNull renders an optional snowflake: null when 0.
func idOrNull(id snowflake.ID) any {
	if id == 0 {
		return nil
	}
	return id.String()
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func userJSON(u *user) obj {
	o := obj{
		"id":                     u.id.String(),
		"username":               u.username,
		"discriminator":          "0",
		"global_name":            nullable(u.globalName),
		"avatar":                 nil,
		"public_flags":           0,
		"flags":                  0,
		"banner":                 nil,
		"accent_color":           nil,
		"avatar_decoration_data": nil,
		"collectibles":           nil,
		"primary_guild":          nil,
	}
	if u.bot {
		// Bots keep a four-digit discriminator and have no global name.
		o["discriminator"] = "0" + u.id.String()[len(u.id.String())-3:]
		o["bot"] = true
	}
	return o
}

func (s *Server) memberJSONLocked(g *guild, m *member) obj {
	roles := make([]string, 0, len(m.roles))
	for _, r := range m.roles {
		roles = append(roles, r.String())
	}
	return obj{
		"user":                         userJSON(s.users[m.userID]),
		"nick":                         nullable(m.nick),
		"avatar":                       nil,
		"banner":                       nil,
		"roles":                        roles,
		"joined_at":                    timestamp(m.joinedAt),
		"premium_since":                nil,
		"deaf":                         g.voice[m.userID] != nil && g.voice[m.userID].flags.Deaf,
		"mute":                         g.voice[m.userID] != nil && g.voice[m.userID].flags.Mute,
		"flags":                        0,
		"pending":                      false,
		"communication_disabled_until": nil,
		"avatar_decoration_data":       nil,
	}
}

func roleJSON(r *role) obj {
	o := obj{
		"id":            r.id.String(),
		"name":          r.name,
		"color":         r.color,
		"colors":        obj{"primary_color": r.color, "secondary_color": nil, "tertiary_color": nil},
		"hoist":         r.hoist,
		"icon":          nil,
		"unicode_emoji": nil,
		"position":      r.position,
		"permissions":   itoa64(int64(r.perms)),
		"managed":       r.managed,
		"mentionable":   r.mentionable,
		"flags":         0,
	}
	if r.botID != 0 {
		o["tags"] = obj{"bot_id": r.botID.String()}
	}
	return o
}

// channelJSON renders a guild channel. withGuildID is false inside
// GUILD_CREATE, where Discord leaves guild_id out of its channels.
func channelJSON(c *channel, withGuildID bool) obj {
	o := obj{
		"id":                    c.id.String(),
		"type":                  int(c.typ),
		"name":                  c.name,
		"position":              c.position,
		"permission_overwrites": overwritesJSON(c),
		"parent_id":             nil,
		"nsfw":                  false,
		"flags":                 0,
	}
	if withGuildID {
		o["guild_id"] = c.guildID.String()
	}
	switch c.typ {
	case discord.ChannelTypeGuildVoice, discord.ChannelTypeGuildStageVoice:
		o["bitrate"] = 64000
		o["user_limit"] = 0
		o["rtc_region"] = nil
		o["rate_limit_per_user"] = 0
		o["last_message_id"] = nil
		if c.typ == discord.ChannelTypeGuildStageVoice {
			o["topic"] = nil
		}
	case discord.ChannelTypeGuildCategory:
	default:
		o["topic"] = nil
		o["rate_limit_per_user"] = 0
		o["last_message_id"] = nil
	}
	return o
}

// voiceStateJSON renders a voice state without guild_id and member (the
// GUILD_CREATE form); VOICE_STATE_UPDATE adds both.
func voiceStateJSON(vs *voiceState) obj {
	var ch any
	if vs.channelID != 0 {
		ch = vs.channelID.String()
	}
	return obj{
		"channel_id":                 ch,
		"user_id":                    vs.userID.String(),
		"session_id":                 vs.sessionID,
		"deaf":                       vs.flags.Deaf,
		"mute":                       vs.flags.Mute,
		"self_deaf":                  vs.flags.SelfDeaf,
		"self_mute":                  vs.flags.SelfMute,
		"self_stream":                false,
		"self_video":                 false,
		"suppress":                   false,
		"request_to_speak_timestamp": nil,
	}
}

// guildJSONLocked renders the guild object common to GUILD_CREATE and GUILD_UPDATE.
func (s *Server) guildJSONLocked(g *guild) obj {
	roles := make([]any, 0, len(g.roles))
	for _, r := range g.roles {
		roles = append(roles, roleJSON(r))
	}
	return obj{
		"id":                            g.id.String(),
		"name":                          g.name,
		"icon":                          nil,
		"icon_hash":                     nil,
		"splash":                        nil,
		"discovery_splash":              nil,
		"owner_id":                      g.ownerID.String(),
		"region":                        "deprecated",
		"afk_channel_id":                idOrNull(g.afkChannel),
		"afk_timeout":                   300,
		"widget_enabled":                false,
		"widget_channel_id":             nil,
		"verification_level":            0,
		"default_message_notifications": 0,
		"explicit_content_filter":       0,
		"roles":                         roles,
		"emojis":                        []any{},
		"features":                      []any{},
		"mfa_level":                     0,
		"application_id":                nil,
		"system_channel_id":             idOrNull(g.sysChannel),
		"system_channel_flags":          0,
		"rules_channel_id":              nil,
		"max_presences":                 nil,
		"max_members":                   500000,
		"vanity_url_code":               nil,
		"description":                   nil,
		"home_header":                   nil,
		"banner":                        nil,
		"premium_tier":                  0,
		"premium_subscription_count":    0,
		"preferred_locale":              g.locale,
		"public_updates_channel_id":     nil,
		"max_video_channel_users":       25,
		"max_stage_video_channel_users": 50,
		"nsfw_level":                    0,
		"nsfw":                          false,
		"stickers":                      []any{},
		"premium_progress_bar_enabled":  false,
		"safety_alerts_channel_id":      nil,
		"incidents_data":                nil,
	}
}

// guildCreateJSONLocked renders GUILD_CREATE as sess would receive it.
// Which members are included follows Discord's documented rule: without
// GUILD_PRESENCES only the bot and members in voice; with it, everyone in a
// guild up to large_threshold members, and above that only members with a
// role, a nickname or a voice state (everyone here is "offline").
func (s *Server) guildCreateJSONLocked(g *guild, sess *session) obj {
	o := s.guildJSONLocked(g)
	o["joined_at"] = timestamp(g.members[s.botID].joinedAt)
	o["large"] = len(g.members) > sess.largeThreshold
	o["unavailable"] = false
	o["member_count"] = len(g.members)
	channels := make([]any, 0, len(g.channels))
	for _, c := range g.channels {
		channels = append(channels, channelJSON(c, false))
	}
	o["channels"] = channels
	o["threads"] = []any{}
	o["presences"] = []any{}
	o["stage_instances"] = []any{}
	o["soundboard_sounds"] = []any{}
	voice := []any{}
	if sess.intents.Has(gateway.IntentGuildVoiceStates) {
		for _, uid := range g.memberOrder {
			if vs := g.voice[uid]; vs != nil {
				voice = append(voice, voiceStateJSON(vs))
			}
		}
	}
	o["voice_states"] = voice
	members := []any{}
	presences := sess.intents.Has(gateway.IntentGuildPresences)
	large := len(g.members) > sess.largeThreshold
	for _, uid := range g.memberOrder {
		m := g.members[uid]
		_, inVoice := g.voice[uid]
		include := uid == s.botID || inVoice
		if presences && (!large || m.nick != "" || len(m.roles) > 0) {
			include = true
		}
		if include {
			members = append(members, s.memberJSONLocked(g, m))
		}
	}
	o["members"] = members
	events := []any{}
	for _, e := range g.events {
		events = append(events, s.scheduledEventJSONLocked(g, e, false))
	}
	o["guild_scheduled_events"] = events
	return o
}

func itoa64(i int64) string { return strconv.FormatInt(i, 10) }
