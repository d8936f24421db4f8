package query

// ExactMatch reports whether the query is one exact filter `field:=value`
// and nothing else: no AND, OR or NOT around it and no pipe. Such a query
// matches an event exactly when the event's value of field (the empty
// string when the event lacks the field) equals value, case and all, as
// MatchBlock decides it. The live tail uses it to index thousands of
// viewers' filters by value (one map lookup an event) instead of running
// every filter over every published group. field is the name a Block's
// column has (`_msg` is spelled "message").
func (q *Query) ExactMatch() (field, value string, ok bool) {
	if len(q.pipes) > 0 {
		return "", "", false
	}
	f, isExact := q.filter.(*filterExact)
	if !isExact {
		return "", "", false
	}
	return f.field, f.value, true
}
