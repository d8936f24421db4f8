package event

// CanonicalName maps the name a sender gave a field to the name LogCaster
// stores it under: the aliases that common loggers and shippers use for the
// built-in fields (logstash's @timestamp, zap's ts and msg, Docker's log,
// logback's level_value, Zipkin's X-B3-TraceId, ECS's trace.id, ...) become
// the built-in names; every other name is returned unchanged.
//
// Matching is exact (case-sensitive) apart from the listed spellings, so a
// field a user deliberately called "Time" stays a field of its own. The
// switch compiles to a jump on length and a comparison, so this costs no
// allocation and a few nanoseconds per field.
func CanonicalName(name string) string {
	switch name {
	case FieldTime, "@timestamp", "time", "ts":
		return FieldTime
	case FieldMessage, "msg", "log":
		return FieldMessage
	case FieldLevel, "severity", "lvl", "level_value":
		return FieldLevel
	case FieldTraceID, "traceId", "traceid", "traceID", "X-B3-TraceId", "trace.id":
		return FieldTraceID
	case FieldIndex, "_index":
		return FieldIndex
	}
	return name
}
