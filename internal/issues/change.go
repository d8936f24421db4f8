package issues

// Change is what one recorded event did to its issue, as Options.OnChange
// reports it.
type Change uint8

const (
	// ChangeCount: the event was counted on an existing issue.
	ChangeCount Change = iota
	// ChangeNew: the event opened a new issue.
	ChangeNew
	// ChangeRegression: the event reopened a resolved issue.
	ChangeRegression
)

// String names the change as alert rules do ("count", "new_issue",
// "regression").
func (c Change) String() string {
	switch c {
	case ChangeNew:
		return "new_issue"
	case ChangeRegression:
		return "regression"
	}
	return "count"
}
