// Package syslog is the syslog adapter: a parser for RFC 5424 and RFC 3164
// messages (Parse) and a listener (Server) that takes them over TCP and UDP
// on one port.
//
// Promises:
//   - Every non-empty message becomes exactly one event. Messages that
//     follow neither RFC are kept leniently (a line without PRI is a plain
//     message; a malformed header keeps what it could read and puts the
//     rest in the message) and Parse reports what was wrong.
//   - TCP framing (LF, NUL or RFC 6587 octet counting) is detected frame by
//     frame, so a sender may mix them. A frame that cannot be trusted (a
//     wrong octet count, a frame over the size limit) is counted, logged
//     and ends that connection only.
//   - TCP pushes back: Submit blocks while the pipeline's queue is full, so
//     reads stop and TCP flow control slows the sender. UDP cannot push
//     back: datagrams that find the queue (or the parser pool) full are
//     dropped and counted in logcaster_dropped_events_total, never hidden.
package syslog

import "github.com/logcaster/logcaster/internal/event"

// Names of the fields the parser adds besides the built-in ones.
const (
	FieldFacility = "facility" // PRI's facility by name: kern, user, ..., local7
	FieldService  = "service"  // RFC 5424 APP-NAME, RFC 3164 TAG
	FieldHost     = "host"     // HOSTNAME
	FieldPID      = "pid"      // RFC 5424 PROCID, RFC 3164 TAG[pid]
	FieldMsgID    = "msgid"    // RFC 5424 MSGID
	// FieldTimestampRaw keeps a timestamp the parser could not read; the
	// event then has the arrival time.
	FieldTimestampRaw = "timestamp_raw"
	// sdPrefix starts the name of a structured-data field: sd.<id>.<param>.
	sdPrefix = "sd."
)

// Protocol labels in metrics.
const (
	protoTCP = "syslog_tcp"
	protoUDP = "syslog_udp"
)

// facilityNames are the facility codes of RFC 5424 section 6.2.1 by the
// names syslog daemons print (rsyslog's syslogfacility-text).
var facilityNames = [24]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

// severityLevels maps the severities of RFC 5424 section 6.2.1 to levels:
// emergency, alert and critical are FATAL; notice is INFO.
var severityLevels = [8]string{
	event.LevelFatal, event.LevelFatal, event.LevelFatal, event.LevelError,
	event.LevelWarn, event.LevelInfo, event.LevelInfo, event.LevelDebug,
}

// maxPRI is the largest valid PRI: facility 23 (local7) * 8 + severity 7.
const maxPRI = 191
