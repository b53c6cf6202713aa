//go:build race

package main

// raceEnabled: disgo v0.19.6 races in its own gateway shutdown (see
// scripts/test.sh), so the figures that run the bot over the simulator's
// gateway are skipped under -race.
const raceEnabled = true
