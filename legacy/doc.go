// Package legacy imports attendance recorded by the original Python bot
// (one PostgreSQL row per member, local date and hour, with the minutes seen
// as an integer array) into rollcall's occurrences, attendance, coverage and
// members tables, so imported history reads exactly like recorded history.
// Main is `rollcall import-legacy`; Usage describes its flags.
//
// Rows are read from the original table (or a CSV export of it) as a stream,
// validated, and copied with COPY into a temporary table in the target
// database; a few set-based statements then merge them in one transaction:
// bit_or per (member, event), then an OR into the stored masks. Nothing is
// held in memory per row, and importing twice changes nothing.
//
// # Measured
//
// A 1,000,000-row table generated as in BenchmarkImportLegacyMillion (1,667
// one-hour events of 600 members, 5% duplicate rows, 0.1% broken rows),
// source and target on the local PostgreSQL 15 of a 2-core AMD EPYC VM:
//
//   - first import: 21.6 s wall with the machine quiet (load average 1), after
//     the attendance rows lost their second index and empty masks became NULL;
//     earlier 44-65 s wall, measured while other builds and tests kept
//     the load average at 6-12 (go test -bench ImportLegacyMillion -benchtime
//     1x ./legacy/, and the built command under /usr/bin/time). The work
//     itself is 23 s of CPU in the target's backend (read from /proc during
//     the run), 2.5 s in the source's and 3 s in the command, so about 25-30 s
//     on an idle machine.
//   - the same import again (nothing to change): 18-27 s; --dry-run: 14 s.
//   - the command's memory stays at about 17 MB (maximum RSS).
//
// Two thirds of the target's time is the INSERT into attendance, a third of
// that the per-row foreign-key check on occurrence_id.
package legacy
