package esbulk

// MapIndex turns an Elasticsearch index name into a LogCaster index. ELK
// setups write one index per application and day ({app}-{date}, e.g.
// Logstash's "myapp-%{+YYYY.MM.dd}"), sometimes with a rollover counter and
// a data-stream style "logs-" prefix; LogCaster partitions by day itself,
// so the date, the counter and the prefix are dropped:
//
//	myapp-2026.11.22             myapp
//	logs-myapp-2026.11.22        myapp
//	myapp-2026-11-22, myapp_20261122, myapp-2026.11   myapp
//	logstash-2026.11.22-000001   logstash
//	myapp                        myapp
//
// A name that would become empty is kept as it is.
func MapIndex(name string) string {
	s := name
	if n := len(s); n > len("-000001") && s[n-7] == '-' && allDigits(s[n-6:]) {
		s = s[:n-7]
	}
	for i := 1; i < len(s); i++ {
		if (s[i] == '-' || s[i] == '_') && isDate(s[i+1:]) {
			s = s[:i]
			break
		}
	}
	if len(s) > len("logs-") && s[:len("logs-")] == "logs-" {
		s = s[len("logs-"):]
	}
	if s == "" {
		return name
	}
	return s
}

// isDate reports whether s is a date as index names carry them: a year
// 1900-2099, then one to three two-digit parts (month, day, hour), each
// optionally after a '.' or '-'.
func isDate(s string) bool {
	if len(s) < 6 || !allDigits(s[:4]) || (s[:2] != "19" && s[:2] != "20") {
		return false
	}
	s = s[4:]
	parts := 0
	for len(s) > 0 {
		if s[0] == '.' || s[0] == '-' {
			s = s[1:]
		}
		if len(s) < 2 || !allDigits(s[:2]) {
			return false
		}
		s = s[2:]
		parts++
	}
	return parts >= 1 && parts <= 3
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}
